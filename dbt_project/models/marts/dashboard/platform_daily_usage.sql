{#- One row per day from the first call to the as-of date, zero-filled: the whole platform's
    calls, status classes and exact latency percentiles, for the dashboard's overview. -#}

with

aggregate_per_day as (

    select * from {{ ref('int_platform_daily_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

first_call_date as (

    select min(usage_date) as first_call_date
    from aggregate_per_day

),

day_spine as (

    select cast(spine.day as date) as usage_date
    from first_call_date
    cross join as_of
    {{ days_through('first_call_date.first_call_date', 'as_of.as_of_date') }}

),

zero_fill as (

    select
        day_spine.usage_date,
        cast(coalesce(aggregate_per_day.calls, 0) as bigint) as calls,
        cast(coalesce(aggregate_per_day.calls_2xx, 0) as bigint) as calls_2xx,
        cast(coalesce(aggregate_per_day.calls_3xx, 0) as bigint) as calls_3xx,
        cast(coalesce(aggregate_per_day.client_errors, 0) as bigint) as client_errors,
        cast(coalesce(aggregate_per_day.server_errors, 0) as bigint) as server_errors,
        cast(coalesce(aggregate_per_day.calls_1xx, 0) as bigint) as calls_1xx,
        (aggregate_per_day.client_errors + aggregate_per_day.server_errors)
        / aggregate_per_day.calls as error_rate,
        cast(aggregate_per_day.latency_p50_ms as double) as latency_p50_ms,
        cast(aggregate_per_day.latency_p95_ms as double) as latency_p95_ms,
        cast(aggregate_per_day.latency_p99_ms as double) as latency_p99_ms,
        cast(coalesce(aggregate_per_day.distinct_customers, 0) as bigint) as distinct_customers
    from day_spine
    left join aggregate_per_day
        on day_spine.usage_date = aggregate_per_day.usage_date

)

select * from zero_fill
