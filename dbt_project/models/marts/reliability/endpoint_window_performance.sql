{#- One row per window (the 1, 7 and 30 days ending on the as-of date), route template and
    method with a call in that window (docs/contract.md 2c `endpoint_window_performance`): the
    one figure of a route's latency and errors over a window that every face shows. Rates and
    percentiles are exact over the window's calls, never a figure of daily figures (a median of
    daily p95s is not the window's p95). Rebuilt each run from the 30 days' calls only
    (macros/window_requests.sql: each call counts in every window it falls in). -#}
with

requests_per_window as (

    {{ requests_per_window(['route', 'method', 'organization_id', 'is_client_error', 'is_server_error',
        'request_duration_ms']) }}

),

aggregate_per_window as (

    select
        window_days,
        route,
        method,
        as_of_date,
        count(*) as calls,
        count(distinct organization_id) as distinct_customers,
        count(*) filter (where is_client_error) as client_errors,
        count(*) filter (where is_server_error) as server_errors,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_ms
    from requests_per_window
    group by all

),

final as (

    select
        window_days,
        route,
        method,
        calls,
        distinct_customers,
        (client_errors + server_errors) / calls as error_rate,
        server_errors / calls as server_error_rate,
        cast(latency_p50_ms as double) as latency_p50_ms,
        cast(latency_p95_ms as double) as latency_p95_ms,
        cast(latency_p99_ms as double) as latency_p99_ms,
        client_errors,
        server_errors,
        cast({{ dbt.dateadd('day', '(1 - window_days)', 'as_of_date') }} as date) as window_start_date,
        as_of_date
    from aggregate_per_window

)

select * from final
