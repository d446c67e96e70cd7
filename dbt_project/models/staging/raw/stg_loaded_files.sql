{#- One row per distinct file content the loader has seen (the load manifest the Dagster asset
    raw/events writes). -#}
with

source_loaded_files as (

    select * from {{ source('raw', 'loaded_files') }}

),

loaded_files as (

    select
        load_id,
        file_sha256,
        path,
        size_bytes,
        file_format,
        status,
        lines,
        events,
        rejects,
        blank_lines,
        unknown_type_events,
        error,
        loaded_at
    from source_loaded_files

)

select * from loaded_files
