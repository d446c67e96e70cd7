{#- One row per UTC day with at least one call, up to the as-of date: the whole platform's calls,
    status classes and exact latency percentiles of that day. Incremental by touched days
    (macros/incremental_days.sql); platform_daily_usage zero-fills it. -#}
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

aggregate_per_day as (

    select
        request_date as usage_date,
        count(*) as calls,
        count(*) filter (where status_code between 200 and 299) as calls_2xx,
        count(*) filter (where status_code between 300 and 399) as calls_3xx,
        count(*) filter (where is_client_error) as client_errors,
        count(*) filter (where is_server_error) as server_errors,
        count(*) filter (where status_code < 200) as calls_1xx,
        count(distinct organization_id) as distinct_customers,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_ms
    from requests_to_as_of
    group by all

)

select * from aggregate_per_day
