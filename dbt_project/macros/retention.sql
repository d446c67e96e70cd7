{#- Retention per field class (docs/governance.md). After a refresh, orchestration/privacy/
    retention.py drops the call payloads of the days past RAW_RETENTION_DAYS and nulls the IP
    hashes of the days past IP_HASH_RETENTION_DAYS, and records in raw.retention_seals the last
    day it sealed. A sealed day is never rebuilt from raw again: the loader rejects a late event
    for it (`past retention`), incremental models only rebuild days new loads touch, and a full
    refresh needs `--allow-history-loss`. The few models that read calls over all history keep
    their sealed days' rows with `sealed_days_kept`. -#}

{#- The last sealed day as 'YYYY-MM-DD', or none: nothing sealed, a full build, a unit test, or
    Spark (retention runs on the DuckDB warehouse only). -#}
{% macro sealed_through() -%}
    {{ return(adapter.dispatch('sealed_through')()) }}
{%- endmacro %}

{% macro default__sealed_through() -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw_events = raw_events_relation() -%}
    {%- set seals = api.Relation.create(
        database=raw_events.database, schema=raw_events.schema, identifier='retention_seals'
    ) -%}
    {%- set rows = run_query(
        "select cast(max(sealed_through) as " ~ dbt.type_string() ~ ") from " ~ seals
    ).rows -%}
    {{ return(rows[0][0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro spark__sealed_through() -%}
    {{ return(none) }}
{%- endmacro %}

{#- A predicate keeping the days after the last sealed one: every day when nothing is sealed. -#}
{% macro unsealed_days(day_column) -%}
    {%- set sealed = sealed_through() if execute else none -%}
    {%- if sealed is none -%}
        (1 = 1)
    {%- else -%}
        {{ day_column }} > cast('{{ sealed }}' as date)
    {%- endif -%}
{%- endmacro %}

{#- The config of a model that reads calls over all history, by day: each build replaces every
    unsealed day (all of them when nothing is sealed) and keeps the sealed days' rows, which no
    build could make again. On DuckDB the unsealed days are deleted first, so a day that no
    longer has rows loses its old ones. Spark has no retention: a table, rebuilt whole. -#}
{% macro sealed_days_kept(day_column) -%}
    {{ return(adapter.dispatch('sealed_days_kept')(day_column)) }}
{%- endmacro %}

{% macro default__sealed_days_kept(day_column) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'fail',
        'pre_hook': "{{ delete_unsealed_days('" ~ day_column ~ "') }}",
    }) }}
{%- endmacro %}

{#- The pre_hook of sealed_days_kept on DuckDB: in the model's transaction, before its insert. -#}
{% macro delete_unsealed_days(day_column) -%}
    {%- if execute and this is not none and is_incremental() -%}
        delete from {{ this }} where {{ unsealed_days(day_column) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__sealed_days_kept(day_column) -%}
    {{ return({'materialized': 'table'}) }}
{%- endmacro %}
