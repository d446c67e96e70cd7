{#- One row per ISO week (Monday) and plan, from the first week with a successful call up to the
    as-of week. An organization is active in a week when it made a successful call (status < 400)
    in it; its plan is its plan on the week's last day (the as-of date in the as-of week).
    - new: first ever active week; returning: active this week and the week before;
    - resurrecting: active this week, not the week before, active in some earlier week;
    - dormant: active the week before, not this week. -#}

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

{# From the daily facts (days up to the as-of date), never from all the calls. #}
find_active_weeks as (

    select distinct
        organization_id,
        cast(date_trunc('week', usage_date) as date) as active_week
    from daily_calls
    where successful_calls > 0

),

find_first_active_weeks as (

    select
        organization_id,
        min(active_week) as first_active_week
    from find_active_weeks
    group by all

),

{# Every week of every organization from its first active week to the as-of week. #}
spread_organization_weeks as (

    select distinct
        find_first_active_weeks.organization_id,
        find_first_active_weeks.first_active_week,
        cast(date_trunc('week', spine.day) as date) as week,
        as_of.as_of_date
    from find_first_active_weeks
    cross join as_of
    {{ days_through('find_first_active_weeks.first_active_week', 'as_of.as_of_date') }}

),

mark_activity as (

    select
        spread_organization_weeks.*,
        find_active_weeks.active_week is not null as is_active,
        least(
            cast({{ dbt.dateadd('day', 6, 'spread_organization_weeks.week') }} as date),
            spread_organization_weeks.as_of_date
        ) as plan_date
    from spread_organization_weeks
    left join find_active_weeks
        on
            spread_organization_weeks.organization_id = find_active_weeks.organization_id
            and spread_organization_weeks.week = find_active_weeks.active_week

),

compare_with_past_weeks as (

    select
        *,
        coalesce(
            lag(is_active) over (partition by organization_id order by week), false
        ) as was_active_last_week,
        coalesce(
            max(case when is_active then 1 else 0 end) over (
                partition by organization_id
                order by week
                rows between unbounded preceding and 2 preceding
            ),
            0
        ) = 1 as was_active_earlier
    from mark_activity

),

classify_organization_weeks as (

    select
        compare_with_past_weeks.week,
        compare_with_past_weeks.plan_date,
        daily_plans.plan_id,
        compare_with_past_weeks.is_active,
        compare_with_past_weeks.is_active
        and compare_with_past_weeks.week = compare_with_past_weeks.first_active_week as is_new,
        compare_with_past_weeks.is_active
        and compare_with_past_weeks.was_active_last_week as is_returning,
        compare_with_past_weeks.is_active
        and not compare_with_past_weeks.was_active_last_week
        and compare_with_past_weeks.was_active_earlier as is_resurrecting,
        not compare_with_past_weeks.is_active
        and compare_with_past_weeks.was_active_last_week as is_dormant,
        cast({{ dbt.dateadd('day', 6, 'compare_with_past_weeks.week') }} as date)
        <= compare_with_past_weeks.as_of_date as is_complete_week
    from compare_with_past_weeks
    left join daily_plans
        on
            compare_with_past_weeks.organization_id = daily_plans.organization_id
            and compare_with_past_weeks.plan_date = daily_plans.plan_date

),

count_per_week_and_plan as (

    select
        week,
        plan_id,
        count(case when is_active then 1 end) as active_customers,
        count(case when is_new then 1 end) as new_customers,
        count(case when is_returning then 1 end) as returning_customers,
        count(case when is_resurrecting then 1 end) as resurrecting_customers,
        count(case when is_dormant then 1 end) as dormant_customers,
        is_complete_week
    from classify_organization_weeks
    group by all

)

select * from count_per_week_and_plan
