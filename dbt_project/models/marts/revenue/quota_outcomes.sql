{#- One row per organization and complete billing month (before the as-of month) in which its
    threshold_band reached 80 or more on some day: what followed that upsell moment
    (docs/contract.md section 2c). The next month is read up to the as-of date: until it has
    ended is_next_month_complete is false and the outcome is the one so far. -#}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

quota_utilization as (

    select * from {{ ref('quota_utilization') }}

),

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

summarize_quota_months as (

    -- The limit on the month's last day with a quota row (up to the as-of date).
    select
        organization_id,
        billing_month,
        max(threshold_band) as peak_band,
        {{ value_at_max('monthly_call_limit', ['usage_date']) }} as last_limit
    from quota_utilization
    group by all

),

sum_calls_per_month as (

    select
        organization_id,
        cast(date_trunc('month', usage_date) as date) as billing_month,
        cast(sum(calls) as bigint) as calls,
        cast(sum(rate_limited_calls) as bigint) as rate_limited_calls
    from daily_calls
    group by all

),

find_upsell_months as (

    select
        summarize_quota_months.organization_id,
        summarize_quota_months.billing_month,
        summarize_quota_months.peak_band,
        summarize_quota_months.last_limit as limit_at_month_end,
        cast({{ dbt.dateadd('month', 1, 'summarize_quota_months.billing_month') }} as date) as next_month,
        as_of.as_of_date
    from summarize_quota_months
    cross join as_of
    where
        summarize_quota_months.peak_band >= 80
        and summarize_quota_months.billing_month < cast(date_trunc('month', as_of.as_of_date) as date)

),

join_next_month as (

    select
        find_upsell_months.organization_id,
        find_upsell_months.billing_month,
        find_upsell_months.peak_band,
        find_upsell_months.limit_at_month_end,
        coalesce(month_calls.rate_limited_calls, 0) as rate_limited_calls,
        next_quota_month.last_limit as next_month_limit,
        coalesce(next_month_calls.calls, 0) as next_month_calls,
        last_day(find_upsell_months.next_month) <= find_upsell_months.as_of_date as is_next_month_complete
    from find_upsell_months
    left join sum_calls_per_month as month_calls
        on
            find_upsell_months.organization_id = month_calls.organization_id
            and find_upsell_months.billing_month = month_calls.billing_month
    left join summarize_quota_months as next_quota_month
        on
            find_upsell_months.organization_id = next_quota_month.organization_id
            and find_upsell_months.next_month = next_quota_month.billing_month
    left join sum_calls_per_month as next_month_calls
        on
            find_upsell_months.organization_id = next_month_calls.organization_id
            and find_upsell_months.next_month = next_month_calls.billing_month

),

judge_outcome as (

    -- First match wins; a next month without a quota row has no limit to compare.
    select
        *,
        case
            when next_month_limit > limit_at_month_end then 'upgraded'
            when next_month_limit < limit_at_month_end then 'downgraded'
            when next_month_calls = 0 then 'churned'
            when rate_limited_calls > 0 then 'absorbed_429s'
            else 'unchanged'
        end as outcome
    from join_next_month

),

final as (

    select
        organization_id,
        billing_month,
        cast(peak_band as integer) as peak_band,
        limit_at_month_end,
        rate_limited_calls,
        next_month_limit,
        next_month_calls,
        is_next_month_complete,
        outcome,
        -- The month's one line (the weekly digest): how many reached 80%, how many per outcome.
        cast(count(*) over (partition by billing_month) as bigint) as accounts_in_month,
        cast(count(*) over (partition by billing_month, outcome) as bigint) as accounts_with_outcome
    from judge_outcome

)

select * from final
