{#- One row per key_issued event, with the organization's plan at that moment: the latest plan
    seen at or before key_issued_at (ties: the latest event_id, as int_organization_daily_plan),
    else the key event's own plan_id. Only plan changes up to the organization's last issuance
    are looked at (most calls come later). The funnel keeps each key's first issuance,
    retention each organization's first (its signup). -#}
with

key_events as (

    select * from {{ ref('stg_key_events') }}

),

plan_changes as (

    select * from {{ ref('int_plan_changes') }}

),

key_issued_events as (

    select
        event_id,
        api_key_id,
        organization_id,
        developer_id,
        application_id,
        event_time as key_issued_at,
        event_date as key_issued_date,
        plan_id as event_plan_id
    from key_events
    where event_type = 'key_issued'

),

last_issuance_per_organization as (

    select
        organization_id,
        max(key_issued_at) as last_key_issued_at
    from key_issued_events
    group by all

),

plan_points as (

    select
        plan_changes.organization_id,
        plan_changes.plan_seen_at,
        max_by(plan_changes.plan_id, plan_changes.event_id) as plan_id
    from plan_changes
    inner join last_issuance_per_organization
        on
            plan_changes.organization_id = last_issuance_per_organization.organization_id
            and plan_changes.plan_seen_at <= last_issuance_per_organization.last_key_issued_at
    group by all

),

attach_plan_at_issuance as (

    select
        key_issued_events.event_id,
        key_issued_events.api_key_id,
        key_issued_events.organization_id,
        key_issued_events.developer_id,
        key_issued_events.application_id,
        key_issued_events.key_issued_at,
        key_issued_events.key_issued_date,
        -- The latest plan point at or before the issuance (plan_seen_at is unique per
        -- organization in plan_points), as an as-of join would pick it.
        coalesce(
            max_by(plan_points.plan_id, plan_points.plan_seen_at), key_issued_events.event_plan_id
        ) as plan_id
    from key_issued_events
    left join plan_points
        on
            key_issued_events.organization_id = plan_points.organization_id
            and key_issued_events.key_issued_at >= plan_points.plan_seen_at
    group by
        key_issued_events.event_id,
        key_issued_events.api_key_id,
        key_issued_events.organization_id,
        key_issued_events.developer_id,
        key_issued_events.application_id,
        key_issued_events.key_issued_at,
        key_issued_events.key_issued_date,
        key_issued_events.event_plan_id

)

select * from attach_plan_at_issuance
