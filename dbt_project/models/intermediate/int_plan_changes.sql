{#- Every known event that tells an organization's plan: consumer.plan_id, else quota.plan_id.
    "The plan on a day" is the latest of these up to the end of that day (docs/contract.md). -#}
with

events as (

    select * from {{ ref('stg_events') }}

),

plan_changes as (

    select
        organization_id,
        event_time as plan_seen_at,
        event_date as plan_seen_date,
        coalesce(plan_id, quota_plan_id) as plan_id,
        event_id
    from events
    where
        is_known_event_type
        and coalesce(plan_id, quota_plan_id) is not null

)

select * from plan_changes
