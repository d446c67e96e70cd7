{#- One row per event_id: the copy loaded first wins (docs/contract.md). Incremental by touched
    days (macros/incremental_days.sql): a run re-deduplicates only the UTC days its new loads
    touch, so a new event is compared with the events of its own day, never with all history
    (a redelivery keeps its event_time, hence its day). -#}
{{ config(**incremental_by_day('event_date', as_of_bound=false)) }}

with

source_events as (

    select
        *,
        cast(event_time as date) as event_date
    from {{ source('raw', 'events') }}
    where {{ rebuild_days('cast(event_time as date)') }}

),

rank_copies as (

    select
        *,
        row_number() over (
            partition by event_date, event_id
            order by load_id, source_line
        ) as copy_number,
        count(*) over (partition by event_date, event_id) as delivered_copies,
        -- Two payloads differ when the smallest and largest fingerprint of the id differ.
        min(payload_md5) over (partition by event_date, event_id)
        != max(payload_md5) over (partition by event_date, event_id) as has_conflicting_copies
    from source_events

),

first_copies as (

    -- Every contract column of raw.events passes through by name (orchestration/loading/
    -- schema.py defines them once); only what staging adds or renames is spelled out here.
    select
        {{ source_columns_except('raw', 'events', ['method', 'route', 'loaded_at', 'payload_md5']) }},
        delivered_copies,
        event_date,
        upper(method) as method,
        route as gateway_route,
        event_type in ('api_request', 'quota_set', 'key_issued', 'key_revoked') as is_known_event_type,
        -- More than one payload under one id is a producer bug (tests/conflicting_redeliveries).
        has_conflicting_copies
    from rank_copies
    where copy_number = 1

)

select * from first_copies
