{#- One row per organization, route template and method with a call in the 30 days ending on the
    as-of date. Percentiles are exact over the window's calls, never averages of daily figures. -#}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_in_window as (

    select api_requests.*
    from api_requests
    cross join as_of
    where {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} between 0 and 29

),

aggregate_per_endpoint as (

    select
        organization_id,
        route,
        method,
        count(*) as calls_30d,
        count(*) filter (where is_client_error or is_server_error) as failed_calls_30d,
        count(*) filter (where is_server_error) as server_errors_30d,
        count(*) filter (where status_code in (401, 403)) as auth_errors_30d,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_30d_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_30d_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_30d_ms,
        count(distinct request_date) as active_days_30d,
        max(requested_at) as last_call_at
    from requests_in_window
    group by all

),

add_shares as (

    select
        organization_id,
        route,
        method,
        calls_30d,
        failed_calls_30d / calls_30d as error_rate_30d,
        server_errors_30d / calls_30d as server_error_rate_30d,
        cast(latency_p50_30d_ms as double) as latency_p50_30d_ms,
        cast(latency_p95_30d_ms as double) as latency_p95_30d_ms,
        cast(latency_p99_30d_ms as double) as latency_p99_30d_ms,
        calls_30d / sum(calls_30d) over (partition by organization_id) as share_of_org_calls_30d,
        last_call_at,
        failed_calls_30d,
        server_errors_30d,
        auth_errors_30d,
        active_days_30d
    from aggregate_per_endpoint

)

select * from add_shares
