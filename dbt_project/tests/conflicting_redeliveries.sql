{#- A redelivered event keeps its id; the same id arriving with a different payload is a
    producer bug. The first loaded copy still wins (stg_events): this test only reports it. -#}
{{ config(severity='warn') }}

with

source_events as (

    select * from {{ source('raw', 'events') }}

),

conflicts as (

    select
        event_id,
        count(*) as copies,
        count(distinct payload_md5) as distinct_payloads,
        string_agg(distinct source_file, ', ') as source_files
    from source_events
    group by event_id
    having count(distinct payload_md5) > 1

)

select * from conflicts
