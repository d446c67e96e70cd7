{#- A table, not a view: the route-template regex would otherwise rerun in every model that
    reads the calls. Incremental by touched days, as stg_events (macros/incremental_days.sql). -#}
{{ config(**incremental_by_day('request_date', as_of_bound=false)) }}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ rebuild_days('event_date') }}

),

api_requests as (

    select
        event_id,
        event_time as requested_at,
        event_date as request_date,
        organization_id,
        developer_id,
        application_id,
        api_key_id,
        plan_id,
        request_id,
        idempotency_key,
        method,
        endpoint,
        {{ route_template('gateway_route', 'endpoint') }} as route,
        api_version,
        status_code,
        error_type,
        cache_status,
        request_duration_ms,
        upstream_ms,
        request_bytes,
        coalesce(response_bytes, 0) as response_bytes,
        network_region,
        network_ip_hash,
        network_country,
        sdk_version,
        user_agent,
        status_code < 400 as is_successful,
        status_code between 200 and 299 as is_2xx,
        status_code between 400 and 499 as is_client_error,
        status_code between 500 and 599 as is_server_error,
        status_code = 429 as is_rate_limited
    from events
    where event_type = 'api_request'

)

select * from api_requests
