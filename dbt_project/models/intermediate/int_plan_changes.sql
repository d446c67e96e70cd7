{#- The points at which an organization's plan is told: known events with consumer.plan_id, else
    quota.plan_id. "The plan on a day" is the latest of these up to the end of that day
    (docs/contract.md). Incremental by touched days: a run reads only the staged events of the
    days its new loads touch, not all of them.
    Within a day only the points that change the plan are kept (the day's first point always is):
    the latest point at or before any moment names the same plan as before, and the day's last
    point is the plan at its end, so int_organization_daily_plan and int_key_issuances read a
    few rows per organization and day instead of one per call. -#}
{{ config(**incremental_by_day('plan_seen_date', as_of_bound=false)) }}

with

events as (

    select * from {{ ref('stg_events') }}

),

plan_events as (

    select
        organization_id,
        event_time as plan_seen_at,
        event_date as plan_seen_date,
        coalesce(plan_id, quota_plan_id) as plan_id,
        event_id
    from events
    where
        {{ rebuild_days('event_date') }}
        and is_known_event_type
        and coalesce(plan_id, quota_plan_id) is not null

),

{# Events at the same moment: the latest event_id names the plan (as the readers break ties). #}
collapse_same_moment as (

    select
        organization_id,
        plan_seen_at,
        plan_seen_date,
        max_by(plan_id, event_id) as plan_id,
        max(event_id) as event_id
    from plan_events
    group by organization_id, plan_seen_at, plan_seen_date

),

compare_with_previous_point as (

    select
        *,
        lag(plan_id) over (
            partition by organization_id, plan_seen_date
            order by plan_seen_at
        ) as previous_plan_id
    from collapse_same_moment

),

final as (

    select
        organization_id,
        plan_seen_at,
        plan_seen_date,
        plan_id,
        event_id
    from compare_with_previous_point
    where previous_plan_id is null or plan_id != previous_plan_id

)

select * from final
