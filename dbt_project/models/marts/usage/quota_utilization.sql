{#- One row per organization with a quota and day: every day from its first quota_set to the
    as-of date on which the limit in force at the end of the day is > 0. Month-to-date usage
    counts every call of the month, including calls before the first quota_set. -#}

with

daily_quotas as (

    select * from {{ ref('int_organization_daily_quota') }}

),

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

daily_plans as (

    select * from {{ ref('int_organization_daily_plan') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

quota_organizations as (

    select
        organization_id,
        min(quota_date) as first_quota_date
    from daily_quotas
    group by all

),

month_spine as (

    -- From the first of the month of the first quota_set, so that used_mtd sees earlier calls.
    select
        quota_organizations.organization_id,
        cast(spine.day as date) as usage_date,
        cast(date_trunc('month', spine.day) as date) as billing_month
    from quota_organizations
    cross join as_of
    {{ days_through("date_trunc('month', quota_organizations.first_quota_date)", 'as_of.as_of_date') }}

),

accumulate_month_to_date as (

    select
        month_spine.organization_id,
        month_spine.usage_date,
        month_spine.billing_month,
        coalesce(daily_calls.calls, 0) as used_today,
        cast(sum(coalesce(daily_calls.calls, 0)) over month_to_date as bigint) as used_mtd,
        cast(sum(coalesce(daily_calls.failed_calls, 0)) over month_to_date as bigint) as failed_mtd,
        cast(
            sum(coalesce(daily_calls.rate_limited_calls, 0)) over month_to_date as bigint
        ) as rate_limited_mtd
    from month_spine
    left join daily_calls
        on
            month_spine.organization_id = daily_calls.organization_id
            and month_spine.usage_date = daily_calls.usage_date
    window month_to_date as (
        partition by month_spine.organization_id, month_spine.billing_month
        order by month_spine.usage_date
        rows between unbounded preceding and current row
    )

),

keep_days_with_quota as (

    select
        accumulate_month_to_date.*,
        daily_quotas.monthly_call_limit,
        cast(day(accumulate_month_to_date.usage_date) as bigint) as day_of_month,
        cast(day(last_day(accumulate_month_to_date.usage_date)) as bigint) as days_in_month
    from accumulate_month_to_date
    inner join daily_quotas
        on
            accumulate_month_to_date.organization_id = daily_quotas.organization_id
            and accumulate_month_to_date.usage_date = daily_quotas.quota_date
    where daily_quotas.monthly_call_limit > 0

),

measure_against_cap as (

    -- Rounding half up in exact integer arithmetic, so 79.95% is 80.0 and band 80 every time.
    select
        *,
        (2000 * used_mtd + monthly_call_limit) // (2 * monthly_call_limit) as pct_of_cap_tenths,
        (2 * used_mtd * days_in_month + day_of_month) // (2 * day_of_month) as projected_eom,
        case
            when used_mtd >= monthly_call_limit then 0
            when used_mtd = 0 then null
            else (monthly_call_limit - used_mtd) * day_of_month // used_mtd
        end as days_to_cap
    from keep_days_with_quota

),

final as (

    select
        measure_against_cap.organization_id,
        measure_against_cap.usage_date,
        measure_against_cap.billing_month,
        daily_plans.plan_id,
        measure_against_cap.monthly_call_limit,
        measure_against_cap.used_today,
        measure_against_cap.used_mtd,
        measure_against_cap.pct_of_cap_tenths / 10 as pct_of_cap,
        measure_against_cap.projected_eom,
        measure_against_cap.days_to_cap,
        case
            when measure_against_cap.pct_of_cap_tenths >= 1000 then 100
            when measure_against_cap.pct_of_cap_tenths >= 950 then 95
            when measure_against_cap.pct_of_cap_tenths >= 800 then 80
            when measure_against_cap.pct_of_cap_tenths >= 500 then 50
            else 0
        end as threshold_band,
        measure_against_cap.projected_eom > measure_against_cap.monthly_call_limit as will_exceed,
        cast(measure_against_cap.day_of_month as integer) as day_of_month,
        cast(measure_against_cap.days_in_month as integer) as days_in_month,
        measure_against_cap.failed_mtd,
        case
            when measure_against_cap.used_mtd > 0
                then measure_against_cap.failed_mtd / measure_against_cap.used_mtd
        end as failed_mtd_rate,
        measure_against_cap.rate_limited_mtd
    from measure_against_cap
    left join daily_plans
        on
            measure_against_cap.organization_id = daily_plans.organization_id
            and measure_against_cap.usage_date = daily_plans.plan_date

)

select * from final
