{#- One row per organization, route template, method and day with a call, up to the as-of date:
    the customer's own view of each endpoint (docs/contract.md 2b). -#}
{{ config(**incremental_by_day('usage_date')) }}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_to_as_of as (

    select api_requests.*
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

aggregate_per_endpoint_day as (

    select
        organization_id,
        route,
        method,
        request_date as usage_date,
        count(*) as calls,
        count(*) filter (where is_successful) as successful_calls,
        count(*) filter (where is_client_error) as client_errors,
        count(*) filter (where is_server_error) as server_errors,
        count(*) filter (where is_rate_limited) as rate_limited_calls,
        count(*) filter (where status_code in (401, 403)) as auth_errors,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_ms,
        cast(sum(response_bytes) as bigint) as response_bytes,
        max(requested_at) as last_call_at
    from requests_to_as_of
    group by all

),

final as (

    select
        organization_id,
        route,
        method,
        usage_date,
        calls,
        successful_calls,
        client_errors,
        server_errors,
        rate_limited_calls,
        auth_errors,
        (client_errors + server_errors) / calls as error_rate,
        cast(latency_p50_ms as double) as latency_p50_ms,
        cast(latency_p95_ms as double) as latency_p95_ms,
        cast(latency_p99_ms as double) as latency_p99_ms,
        response_bytes,
        last_call_at
    from aggregate_per_endpoint_day

)

select * from final
