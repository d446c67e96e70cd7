with

events as (

    select * from {{ ref('stg_events') }}

),

key_events as (

    select
        event_id,
        event_type,
        event_time,
        event_date,
        organization_id,
        developer_id,
        application_id,
        api_key_id,
        plan_id
    from events
    where event_type in ('key_issued', 'key_revoked')

)

select * from key_events
