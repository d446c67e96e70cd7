{#- One row per UTC day with events (deduplicated, every type): how many, how many came late,
    how many of an unknown type. data_health sums it, so its counts keep the days whose calls
    are past raw retention (docs/governance.md). Incremental by touched days. -#}
{{ config(**incremental_by_day('event_date', as_of_bound=false)) }}

{%- set late_event_hours = var('late_event_hours', 24) %}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ rebuild_days('event_date') }}

),

count_per_day as (

    select
        event_date,
        count(*) as events,
        count(*) filter (
            where received_at > event_time + interval {{ late_event_hours }} hour
        ) as late_events,
        count(*) filter (where not is_known_event_type) as unknown_type_events
    from events
    group by all

)

select * from count_per_day
