with

events as (

    select * from {{ ref('stg_events') }}

),

quota_changes as (

    select
        event_id,
        event_time as quota_set_at,
        event_date as quota_set_date,
        organization_id,
        monthly_call_limit,
        quota_plan_id,
        plan_id
    from events
    where event_type = 'quota_set'

)

select * from quota_changes
