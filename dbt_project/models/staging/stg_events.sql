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
        count(distinct payload_md5) over (partition by event_id) as distinct_payloads
    from source_events

),

first_copies as (

    select
        event_id,
        event_type,
        event_time,
        cast(event_time as date) as event_date,
        received_at,
        organization_id,
        developer_id,
        application_id,
        api_key_id,
        plan_id,
        request_id,
        idempotency_key,
        upper(method) as method,
        endpoint,
        route as gateway_route,
        api_version,
        status_code,
        error_type,
        cache_status,
        request_duration_ms,
        upstream_ms,
        request_bytes,
        response_bytes,
        network_region,
        network_ip_hash,
        network_country,
        sdk_version,
        user_agent,
        monthly_call_limit,
        quota_plan_id,
        event_type in ('api_request', 'quota_set', 'key_issued', 'key_revoked') as is_known_event_type,
        delivered_copies,
        -- More than one payload under one id is a producer bug (tests/conflicting_redeliveries).
        distinct_payloads > 1 as has_conflicting_copies,
        source_file,
        source_line,
        load_id
    from rank_copies
    where copy_number = 1

)

select * from first_copies
