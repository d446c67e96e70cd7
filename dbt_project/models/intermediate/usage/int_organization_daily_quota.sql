{#- One row per organization and day from its first quota_set to the as-of date: the monthly
    call limit in force at the end of that day (the latest quota_set by event_time, ties broken
    by event_id), carried forward. Days with a limit of 0 (no quota) are kept here. -#}
with

quota_changes as (

    select * from {{ ref('stg_quota_changes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

last_quota_per_day as (

    select
        organization_id,
        quota_set_date,
        {{ value_at_max('monthly_call_limit', ['quota_set_at', 'event_id']) }} as monthly_call_limit
    from quota_changes
    group by all

),

first_quota_dates as (

    select
        organization_id,
        min(quota_set_date) as first_quota_date
    from last_quota_per_day
    group by all

),

day_spine as (

    select
        first_quota_dates.organization_id,
        first_quota_dates.first_quota_date,
        cast(spine.day as date) as quota_date
    from first_quota_dates
    cross join as_of
    {{ days_through('first_quota_dates.first_quota_date', 'as_of.as_of_date') }}

),

carry_forward as (

    select
        day_spine.organization_id,
        day_spine.quota_date,
        day_spine.first_quota_date,
        {{ last_value_ignoring_nulls('last_quota_per_day.monthly_call_limit') }} over (
            partition by day_spine.organization_id
            order by day_spine.quota_date
            rows between unbounded preceding and current row
        ) as monthly_call_limit
    from day_spine
    left join last_quota_per_day
        on
            day_spine.organization_id = last_quota_per_day.organization_id
            and day_spine.quota_date = last_quota_per_day.quota_set_date

)

select * from carry_forward
