{#- Episodes of a condition: one row per `partition_by` and unbroken run of consecutive days on
    which `flag` held (a day that is missing from `relation`, or on which the flag is false, ends
    the run). Columns: the partition columns, episode_start_date, episode_last_date,
    episode_days. An alert is "in force" on the as-of date when episode_last_date is the as-of
    date; its key names episode_start_date, so a rerun gives the same key and a day without the
    condition re-arms it. `relation` should hold only days up to the as-of date.
        find_episodes as ( {{ flag_episodes('flag_days', ['api_key_id'], 'is_usage_spike') }} ) -#}
{% macro flag_episodes(relation, partition_by, flag, date_column='usage_date') -%}
    {%- set partition = partition_by | join(', ') -%}
    select
        {{ partition }},
        min({{ date_column }}) as episode_start_date,
        max({{ date_column }}) as episode_last_date,
        count(*) as episode_days
    from (
        -- consecutive flagged days share a run id: their day number minus their rank
        select
            {{ partition }},
            {{ date_column }},
            {{ dbt.datediff("cast('2000-01-01' as date)", date_column, 'day') }}
            - row_number() over (
                partition by {{ partition }} order by {{ date_column }}
            ) as run_id
        from {{ relation }}
        where {{ flag }}
    ) as flagged_runs
    group by {{ partition }}, run_id
{%- endmacro %}
