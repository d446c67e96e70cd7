{#- One row per organization and day, from its first call to the as-of date: the calls of the 7
    days ending on that day and of the 7 before, and the contract's `trend` on that day
    (docs/contract.md, first matching rule wins). The one home of the trend rule:
    customer_usage_summary reads the as-of day's row, churn detection every day's. -#}
with

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

find_first_calls as (

    select
        organization_id,
        min(usage_date) as first_call_date
    from daily_calls
    group by organization_id

),

spread_days as (

    select
        find_first_calls.organization_id,
        find_first_calls.first_call_date,
        as_of.as_of_date,
        cast(spine.day as date) as usage_date
    from find_first_calls
    cross join as_of
    {{ days_through('find_first_calls.first_call_date', 'as_of.as_of_date') }}

),

{# The spine is dense, so 7 rows are 7 days. #}
sum_daily_windows as (

    select
        spread_days.organization_id,
        spread_days.usage_date,
        spread_days.first_call_date,
        spread_days.as_of_date,
        cast(coalesce(sum(daily_calls.calls) over last_7_days, 0) as bigint) as calls_7d,
        cast(coalesce(sum(daily_calls.calls) over prior_7_days, 0) as bigint) as calls_prior_7d
    from spread_days
    left join daily_calls
        on
            spread_days.organization_id = daily_calls.organization_id
            and spread_days.usage_date = daily_calls.usage_date
    window
        last_7_days as (
            partition by spread_days.organization_id
            order by spread_days.usage_date
            rows between 6 preceding and current row
        ),
        prior_7_days as (
            partition by spread_days.organization_id
            order by spread_days.usage_date
            rows between 13 preceding and 7 preceding
        )

),

classify_trend as (

    select
        organization_id,
        usage_date,
        first_call_date,
        calls_7d,
        calls_prior_7d,
        case
            when calls_7d = 0 then 'dormant'
            when {{ dbt.datediff('first_call_date', 'usage_date', 'day') }} < 14 then 'new'
            -- calls_7d < 0.5 * calls_prior_7d and calls_7d >= 1.3 * calls_prior_7d, in integers
            when calls_prior_7d >= 100 and 2 * calls_7d < calls_prior_7d then 'declining'
            when 10 * calls_7d >= 13 * calls_prior_7d then 'growing'
            else 'steady'
        end as trend,
        usage_date = as_of_date as is_as_of_date
    from sum_daily_windows

)

select * from classify_trend
