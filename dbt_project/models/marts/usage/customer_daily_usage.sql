{#- One row per organization and day, dense from its first call to the as-of date, zero-filled:
    a day with no calls has 0 counts and null rates and latencies. -#}

with

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

daily_plans as (

    select * from {{ ref('int_organization_daily_plan') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

first_call_dates as (

    select
        organization_id,
        min(usage_date) as first_call_date
    from daily_calls
    group by all

),

day_spine as (

    select
        first_call_dates.organization_id,
        cast(spine.day as date) as usage_date
    from first_call_dates
    cross join as_of
    {{ days_through('first_call_dates.first_call_date', 'as_of.as_of_date') }}

),

zero_fill as (

    select
        day_spine.organization_id,
        day_spine.usage_date,
        daily_plans.plan_id,
        coalesce(daily_calls.calls, 0) as calls,
        coalesce(daily_calls.successful_calls, 0) as successful_calls,
        coalesce(daily_calls.client_errors, 0) as client_errors,
        coalesce(daily_calls.server_errors, 0) as server_errors,
        coalesce(daily_calls.rate_limited_calls, 0) as rate_limited_calls,
        daily_calls.failed_calls / daily_calls.calls as error_rate,
        daily_calls.latency_p50_ms,
        daily_calls.latency_p95_ms,
        daily_calls.latency_p99_ms,
        coalesce(daily_calls.response_bytes, 0) as response_bytes,
        coalesce(daily_calls.distinct_endpoints, 0) as distinct_endpoints,
        coalesce(daily_calls.active_api_keys, 0) as active_api_keys
    from day_spine
    left join daily_calls
        on
            day_spine.organization_id = daily_calls.organization_id
            and day_spine.usage_date = daily_calls.usage_date
    left join daily_plans
        on
            day_spine.organization_id = daily_plans.organization_id
            and day_spine.usage_date = daily_plans.plan_date

)

select * from zero_fill
