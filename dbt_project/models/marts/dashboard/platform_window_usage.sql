{#- One row per window (the 1, 7 and 30 days ending on the as-of date): the whole platform's
    calls, status split, error rate, exact latency percentiles and active customers over the
    window's calls, the overview's headline. Exact over the calls, never a figure of daily
    figures (a median of daily p95s is not the window's p95). Rebuilt each run from the 30
    days' calls only, as endpoint_window_performance; a window without a call still has its row
    (zero calls, null rate and latency). -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

windows as (

    {{ report_windows_sql() }}

),

requests_per_window as (

    {{ requests_per_window(['organization_id', 'is_successful', 'is_client_error', 'is_server_error',
        'is_rate_limited', 'request_duration_ms']) }}

),

aggregate_per_window as (

    select
        window_days,
        count(*) as calls,
        count(*) filter (where is_successful) as successful_calls,
        count(*) filter (where is_client_error) as client_errors,
        count(*) filter (where is_server_error) as server_errors,
        count(*) filter (where is_rate_limited) as rate_limited_calls,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_ms,
        count(distinct organization_id) as active_customers
    from requests_per_window
    group by window_days

),

final as (

    select
        windows.window_days,
        cast(coalesce(aggregate_per_window.calls, 0) as bigint) as calls,
        cast(coalesce(aggregate_per_window.successful_calls, 0) as bigint) as successful_calls,
        cast(coalesce(aggregate_per_window.client_errors, 0) as bigint) as client_errors,
        cast(coalesce(aggregate_per_window.server_errors, 0) as bigint) as server_errors,
        cast(coalesce(aggregate_per_window.rate_limited_calls, 0) as bigint) as rate_limited_calls,
        (aggregate_per_window.client_errors + aggregate_per_window.server_errors)
        / aggregate_per_window.calls as error_rate,
        cast(aggregate_per_window.latency_p50_ms as double) as latency_p50_ms,
        cast(aggregate_per_window.latency_p95_ms as double) as latency_p95_ms,
        cast(aggregate_per_window.latency_p99_ms as double) as latency_p99_ms,
        cast(coalesce(aggregate_per_window.active_customers, 0) as bigint) as active_customers,
        cast({{ dbt.dateadd('day', '(1 - windows.window_days)', 'as_of.as_of_date') }} as date) as window_start_date,
        as_of.as_of_date
    from windows
    cross join as_of
    left join aggregate_per_window
        on windows.window_days = aggregate_per_window.window_days

)

select * from final
