{#- One row per event_id: the copy loaded first wins (docs/contract.md). Materialized as a table
    because every other model reads it and the dedup window would otherwise rerun per model. -#}
{{ config(materialized='table') }}

with

source_events as (

    select * from {{ source('raw', 'events') }}

),

rank_copies as (

    select
        *,
        row_number() over (
            partition by event_id
            order by load_id, source_line
        ) as copy_number,
        count(*) over (partition by event_id) as delivered_copies,
        -- Two payloads differ when the smallest and largest fingerprint of the id differ.
        min(payload_md5) over (partition by event_id)
        != max(payload_md5) over (partition by event_id) as has_conflicting_copies
    from source_events

),

first_copies as (

    -- Every contract column of raw.events passes through by name (orchestration/loading/
    -- schema.py defines them once); only what staging adds or renames is spelled out here.
    select
        {{ source_columns_except('raw', 'events', ['method', 'route', 'loaded_at', 'payload_md5']) }},
        delivered_copies,
        cast(event_time as date) as event_date,
        upper(method) as method,
        route as gateway_route,
        event_type in ('api_request', 'quota_set', 'key_issued', 'key_revoked') as is_known_event_type,
        -- More than one payload under one id is a producer bug (tests/conflicting_redeliveries).
        has_conflicting_copies
    from rank_copies
    where copy_number = 1

)

select * from first_copies
