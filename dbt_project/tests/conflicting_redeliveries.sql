{#- A redelivered event keeps its id; the same id arriving with a different payload is a
    producer bug. The copy loaded first still wins in stg_events: this only reports it, as a
    warning on stg_events (a check in the Dagster UI), listing where the kept copy came from. -#}
{{ config(severity='warn') }}

with

events as (

    select * from {{ ref('stg_events') }}

),

conflicting as (

    select
        event_id,
        event_type,
        organization_id,
        delivered_copies,
        source_file as kept_from_file,
        source_line as kept_from_line
    from events
    where has_conflicting_copies

)

select * from conflicting
