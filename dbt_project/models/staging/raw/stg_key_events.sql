{#- One row per key_issued or key_revoked event. Incremental by touched days (macros/
    incremental_days.sql): a run reads only the staged events of the days its new loads touch,
    so int_key_issuances reads these few events instead of scanning all staged events. -#}
{{ config(**incremental_by_day('event_date', as_of_bound=false)) }}

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
    where
        {{ rebuild_days('event_date') }}
        and event_type in ('key_issued', 'key_revoked')

)

select * from key_events
