{#- One row per organization with a call on or before the as-of date: its 7/30-day windows
    ending on the as-of date, rank and trend (docs/contract.md, first matching trend wins). -#}

with

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

daily_plans as (

    select * from {{ ref('int_organization_daily_plan') }}

),

endpoint_changes as (

    select * from {{ ref('int_customer_endpoint_changes_7d') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

sum_windows as (

    select
        daily_calls.organization_id,
        as_of.as_of_date,
        min(daily_calls.usage_date) as first_call_date,
        max(daily_calls.usage_date) as last_call_date,
        max(daily_calls.last_call_at) as last_call_at,
        cast(coalesce(sum(daily_calls.calls) filter (
            where daily_calls.usage_date > as_of.as_of_date - 30
        ), 0) as bigint) as calls_30d,
        count(*) filter (
            where daily_calls.usage_date > as_of.as_of_date - 30
        ) as active_days_30d,
        cast(coalesce(sum(daily_calls.calls) filter (
            where daily_calls.usage_date > as_of.as_of_date - 7
        ), 0) as bigint) as calls_7d,
        cast(coalesce(sum(daily_calls.calls) filter (
            where daily_calls.usage_date between as_of.as_of_date - 13 and as_of.as_of_date - 7
        ), 0) as bigint) as calls_prior_7d
    from daily_calls
    cross join as_of
    group by all

),

compare_windows as (

    -- usage_change_7d_pct rounded half away from zero in exact integer arithmetic (a double
    -- division can land a hair below a .x5 boundary).
    select
        *,
        case
            when calls_prior_7d > 0
                then
                    sign(calls_7d - calls_prior_7d)
                    * ((2000 * abs(calls_7d - calls_prior_7d) + calls_prior_7d) // (2 * calls_prior_7d))
                    / 10
        end as usage_change_7d_pct,
        cast(as_of_date - last_call_date as integer) as days_since_last_call,
        row_number() over (order by calls_30d desc, organization_id asc) as rank_30d
    from sum_windows

),

classify_trend as (

    select
        *,
        case
            when calls_7d = 0 then 'dormant'
            when as_of_date - first_call_date < 14 then 'new'
            -- calls_7d < 0.5 * calls_prior_7d, in integers
            when calls_prior_7d >= 100 and 2 * calls_7d < calls_prior_7d then 'declining'
            -- calls_7d >= 1.3 * calls_prior_7d, in integers
            when 10 * calls_7d >= 13 * calls_prior_7d then 'growing'
            else 'steady'
        end as trend
    from compare_windows

),

final as (

    select
        classify_trend.organization_id,
        daily_plans.plan_id,
        classify_trend.calls_30d,
        classify_trend.active_days_30d,
        classify_trend.last_call_at,
        classify_trend.calls_7d,
        classify_trend.calls_prior_7d,
        cast(classify_trend.usage_change_7d_pct as double) as usage_change_7d_pct,
        classify_trend.days_since_last_call,
        classify_trend.rank_30d,
        classify_trend.trend,
        classify_trend.first_call_date,
        classify_trend.as_of_date,
        endpoint_changes.top_endpoint_changes
    from classify_trend
    left join daily_plans
        on
            classify_trend.organization_id = daily_plans.organization_id
            and classify_trend.as_of_date = daily_plans.plan_date
    left join endpoint_changes
        on classify_trend.organization_id = endpoint_changes.organization_id

)

select * from final
