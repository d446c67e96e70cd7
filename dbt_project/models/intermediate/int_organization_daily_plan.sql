{#- One row per organization and day on which its plan is known: the plan in force at the end
    of that day, carried forward to the as-of date. -#}
with

plan_changes as (

    select * from {{ ref('int_plan_changes') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

last_plan_per_day as (

    select
        organization_id,
        plan_seen_date,
        {{ value_at_max('plan_id', ['plan_seen_at', 'event_id']) }} as plan_id
    from plan_changes
    group by all

),

day_spine as (

    select
        organizations.organization_id,
        cast(spine.day as date) as plan_date
    from (
        select
            organization_id,
            min(plan_seen_date) as first_plan_date
        from last_plan_per_day
        group by all
    ) as organizations
    cross join as_of
    {{ days_through('organizations.first_plan_date', 'greatest(as_of.as_of_date, organizations.first_plan_date)') }}

),

carry_forward as (

    select
        day_spine.organization_id,
        day_spine.plan_date,
        {{ last_value_ignoring_nulls('last_plan_per_day.plan_id') }} over (
            partition by day_spine.organization_id
            order by day_spine.plan_date
            rows between unbounded preceding and current row
        ) as plan_id
    from day_spine
    left join last_plan_per_day
        on
            day_spine.organization_id = last_plan_per_day.organization_id
            and day_spine.plan_date = last_plan_per_day.plan_seen_date

)

select * from carry_forward
