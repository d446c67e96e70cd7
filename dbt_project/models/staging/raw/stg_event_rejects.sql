{#- One row per input line that broke the contract, as the Dagster asset raw/events kept it. -#}
with

source_event_rejects as (

    select * from {{ source('raw', 'event_rejects') }}

),

event_rejects as (

    select
        load_id,
        source_file,
        file_sha256,
        line_number,
        reason,
        snippet,
        rejected_at
    from source_event_rejects

)

select * from event_rejects
