{#- One row: what the load kept out or let in late, shown beside every dashboard figure so a
    reader knows how complete the data is. Late events are counted among deduplicated events,
    per day in int_event_counts_daily. -#}

{#- The share of rejected lines worth a look: a few bad lines among many are the usual dirt of a
    collector; a file that failed, or one line in a hundred, is not. -#}
{%- set rejected_share_worth_a_look = 0.01 %}

with

loaded_files as (

    select * from {{ ref('stg_loaded_files') }}

),

event_rejects as (

    select * from {{ ref('stg_event_rejects') }}

),

event_counts_daily as (

    select * from {{ ref('int_event_counts_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

count_files as (

    select
        count(*) filter (where status = 'loaded') as files_loaded,
        count(*) filter (where status = 'empty') as files_empty,
        count(*) filter (where status = 'failed') as files_failed,
        max(loaded_at) as last_loaded_at
    from loaded_files

),

count_rejects as (

    select count(*) as rejected_lines
    from event_rejects

),

count_events as (

    select
        coalesce(sum(events), 0) as events,
        coalesce(sum(late_events), 0) as late_events,
        coalesce(sum(unknown_type_events), 0) as unknown_type_events
    from event_counts_daily

),

combine as (

    select
        as_of.as_of_date,
        count_files.last_loaded_at,
        cast(count_files.files_loaded as bigint) as files_loaded,
        cast(count_files.files_empty as bigint) as files_empty,
        cast(count_files.files_failed as bigint) as files_failed,
        cast(count_rejects.rejected_lines as bigint) as rejected_lines,
        cast(count_events.events as bigint) as events,
        cast(count_events.late_events as bigint) as late_events,
        cast(count_events.unknown_type_events as bigint) as unknown_type_events,
        coalesce(
            count_files.files_failed > 0
            or (
                count_rejects.rejected_lines > 0
                and count_rejects.rejected_lines
                >= {{ rejected_share_worth_a_look }} * (count_rejects.rejected_lines + count_events.events)
            ),
            false
        ) as needs_attention
    from count_files
    cross join count_rejects
    cross join count_events
    cross join as_of

)

select * from combine
