{#- Incremental by touched days (docs/design.md "Incremental by touched days").

    raw.events is append-only and every row carries its load_id. Each incremental model records,
    in the same transaction as its rows, the newest load it consumed and the as-of date it was
    built for (meta.incremental_state, one row appended per build). On the next run the days it
    rebuilds are:
    - every UTC day touched by a newer load (late events included), plus `days_after` days
      after each (models whose rows look back over a window, e.g. 28-day baselines);
    - every day after the as-of date it was built for, up to the current one (AS_OF moved on);
    capped at the current as-of date for as-of-bound models. Rows of those days are replaced
    (delete+insert on the day column here; insert_overwrite of the day partitions on Spark).
    An as-of date that moved backwards refuses to build: rows after it would stay, a silently
    mixed state; `dbt build --full-refresh` (Dagster chooses it by itself) rebuilds from raw.
    A model with no recorded state (a first build, or a table older than this scheme) rebuilds
    every day it has. -#}

{#- Where each incremental model records what it consumed. Append-only, so both engines can
    write it with a plain insert (Spark's Parquet tables have no delete). -#}
{% macro incremental_state_relation() -%}
    meta.incremental_state
{%- endmacro %}

{#- raw.events, read for its load ids only: looked up in the graph rather than with source(),
    so models (and their unit tests) do not take the raw table as an input. -#}
{% macro raw_events_relation() -%}
    {#- The graph is empty while dbt parses; the name only matters when the SQL runs. -#}
    {%- for node in (graph.get('sources') or {}).values() if node.source_name == 'raw' and node.name == 'events' -%}
        {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) }}
    {%- endfor -%}
{%- endmacro %}

{#- The on-run-start hook: the state table, created once. One statement per hook on Spark, so
    its schema is created first there. -#}
{% macro create_incremental_state() -%}
    {{ return(adapter.dispatch('create_incremental_state')()) }}
{%- endmacro %}

{% macro default__create_incremental_state() -%}
    create schema if not exists meta;
    {{ incremental_state_table_sql() }};
    {#- Tables made before the day list was kept (test_scope.sql reads it). -#}
    alter table {{ incremental_state_relation() }} add column if not exists rebuilt_day_list varchar
{%- endmacro %}

{% macro spark__create_incremental_state() -%}
    {%- do run_query('create schema if not exists meta') -%}
    {%- set existing = adapter.get_relation(database=none, schema='meta', identifier='incremental_state') -%}
    {%- if existing is not none
        and 'rebuilt_day_list' not in adapter.get_columns_in_relation(existing) | map(attribute='name') | list -%}
        {#- Tables made before the day list was kept (test_scope.sql reads it). -#}
        {%- do run_query('alter table ' ~ incremental_state_relation() ~ ' add columns (rebuilt_day_list string)') -%}
    {%- endif -%}
    {{ incremental_state_table_sql() }} using parquet
{%- endmacro %}

{% macro incremental_state_table_sql() -%}
    create table if not exists {{ incremental_state_relation() }} (
        model_name {{ dbt.type_string() }},
        raw_load_id bigint,
        as_of_date date,
        full_rebuild boolean,
        rebuilt_days integer,
        recorded_at timestamp,
        rebuilt_day_list {{ dbt.type_string() }}
    )
{%- endmacro %}

{#- The config of every incremental model, the one place the engines differ on how a day is
    replaced: `{{ config(**incremental_by_day('usage_date')) }}`. Both replace exactly the days
    present in the model's new rows, and the model emits every row of each day it rebuilds:
    - DuckDB: delete+insert keyed on the day column (dbt-duckdb deletes the days the new rows
      have, then inserts them, in one transaction with the post_hook);
    - Spark: insert_overwrite of the day partitions (partition_by the day, Parquet), with
      dynamic partition overwrite, so partitions absent from the new rows are kept. dbt-spark
      inserts by the table's column order (the partition column last), selecting by name.
    A day never loses all its rows (raw.events is append-only), so "days present in the new
    rows" is "days rebuilt" on both. Staging models (as_of_bound false) are not cut at the
    as-of date and record no as-of date. -#}
{% macro incremental_by_day(day_column, as_of_bound=true) -%}
    {%- set common = {
        'materialized': 'incremental',
        'on_schema_change': 'fail',
        'post_hook': incremental_state_hook(as_of_bound),
        'meta': {'day_column': day_column},
    } -%}
    {%- do common.update(adapter.dispatch('incremental_by_day')(day_column)) -%}
    {{ return(common) }}
{%- endmacro %}

{% macro default__incremental_by_day(day_column) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': day_column}) }}
{%- endmacro %}

{% macro spark__incremental_by_day(day_column) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [day_column], 'file_format': 'parquet'}) }}
{%- endmacro %}

{#- The post_hook text (rendered when the model runs, not here). -#}
{% macro incremental_state_hook(as_of_bound) -%}
    {%- if as_of_bound -%}
        {%- set hook -%}{% raw %}{{ record_incremental_state(ref('int_as_of_date')) }}{% endraw %}{%- endset -%}
    {%- else -%}
        {%- set hook -%}{% raw %}{{ record_incremental_state() }}{% endraw %}{%- endset -%}
    {%- endif -%}
    {{ return(hook) }}
{%- endmacro %}

{#- The days to rebuild for the model being compiled: a list of 'YYYY-MM-DD' strings, or none
    for "every day" (full refresh, first build, no recorded state). -#}
{% macro days_to_rebuild(as_of_relation=none, days_after=0) -%}
    {{ return(adapter.dispatch('days_to_rebuild')(as_of_relation, days_after)) }}
{%- endmacro %}

{% macro default__days_to_rebuild(as_of_relation, days_after) -%}
    {#- Unit tests render a model without `this`: every given row counts. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set raw_events = raw_events_relation() -%}
    {%- set state = run_query(
        "select raw_load_id, cast(as_of_date as " ~ dbt.type_string() ~ ") from "
        ~ incremental_state_relation() ~ " where model_name = '" ~ this.identifier
        ~ "' order by recorded_at desc limit 1"
    ) -%}
    {%- if state.rows | length == 0 or state.rows[0][0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set consumed_load_id = state.rows[0][0] -%}
    {%- set built_as_of = state.rows[0][1] -%}
    {%- set as_of = none -%}
    {%- if as_of_relation is not none -%}
        {%- set as_of_rows = run_query(
            "select cast(as_of_date as " ~ dbt.type_string() ~ ") from " ~ as_of_relation
        ).rows -%}
        {%- set as_of = as_of_rows[0][0] if as_of_rows | length > 0 else none -%}
    {%- endif -%}
    {%- set days = [] -%}
    {%- set touched = run_query(
        "select distinct cast(cast(event_time as date) as " ~ dbt.type_string() ~ ") from "
        ~ raw_events ~ " where load_id > " ~ consumed_load_id
    ) -%}
    {%- for row in touched.rows -%}
        {%- set first_day = modules.datetime.date.fromisoformat(row[0]) -%}
        {%- for offset in range(days_after + 1) -%}
            {%- do days.append((first_day + modules.datetime.timedelta(days=offset)).isoformat()) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if as_of is not none and built_as_of is not none -%}
        {%- if as_of < built_as_of -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ " was built for as-of date " ~ built_as_of ~ " and the as-of date is now "
                ~ as_of ~ ", earlier: rebuild with `apiwh run --full-refresh` (or `dbt build --full-refresh`)"
            ) }}
        {%- endif -%}
        {%- set built_day = modules.datetime.date.fromisoformat(built_as_of) -%}
        {%- set as_of_day = modules.datetime.date.fromisoformat(as_of) -%}
        {%- for offset in range(1, (as_of_day - built_day).days + 1) -%}
            {%- do days.append((built_day + modules.datetime.timedelta(days=offset)).isoformat()) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set kept = [] -%}
    {%- for day in days | unique | sort -%}
        {%- if as_of is none or day <= as_of -%}
            {%- do kept.append(day) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}

{#- A predicate keeping the rows of the days to rebuild: `where {{ rebuild_days('usage_date') }}`.
    The days are literals, so DuckDB prunes row groups by their min/max and Spark prunes
    partitions. Always true on a full build. A day computed from a timestamp
    (`cast(event_time as date)`) prunes nothing by itself: `timestamp_column` adds the range of
    those days on the column itself (at 10M events, stg_events read one day in 0.7 s without it,
    every column of every event, against 0.01 s). -#}
{% macro rebuild_days(day_column, as_of_relation=none, days_after=0, timestamp_column=none) -%}
    {#- Nothing to look up while dbt parses (or sqlfluff templates): every day. -#}
    {%- set days = days_to_rebuild(as_of_relation, days_after) if execute else none -%}
    {%- if days is none -%}
        (1 = 1)
    {%- else -%}
        {{ on_days(day_column, days) }}
        {%- if timestamp_column is not none and days | length > 0 %}
            {%- set day_after_last = modules.datetime.date.fromisoformat(days | last) + modules.datetime.timedelta(days=1) %}
            and {{ timestamp_column }} >= cast('{{ days | first }}' as timestamp)
            and {{ timestamp_column }} < cast('{{ day_after_last.isoformat() }}' as timestamp)
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- `day_column` is one of `days` (literal dates, so the engine prunes by them); false for none.
    Shared by the models' rebuild_days and the data tests' rows_to_test (test_scope.sql). -#}
{% macro on_days(day_column, days) -%}
    {%- if days | length == 0 -%}
        (1 = 0)
    {%- else -%}
        {{ day_column }} in ({% for day in days %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- post_hook of every incremental model: what it consumed, in its own transaction. -#}
{% macro record_incremental_state(as_of_relation=none) -%}
    {%- set days = days_to_rebuild(as_of_relation) if execute else none -%}
    insert into {{ incremental_state_relation() }}
    select
        '{{ this.identifier }}',
        (select max(load_id) from {{ raw_events_relation() }}),
        {% if as_of_relation is not none -%}
            (select max(as_of_date) from {{ as_of_relation }}),
        {%- else -%}
            cast(null as date),
        {%- endif %}
        {{ 'true' if days is none else 'false' }},
        {{ -1 if days is none else days | length }},
        current_timestamp,
        {{ "cast(null as " ~ dbt.type_string() ~ ")" if days is none else "'" ~ days | join(',') ~ "'" }}
{%- endmacro %}

{#- The earliest day the incremental model being compiled already has, as 'YYYY-MM-DD', or none
    (a full build, a first build, a unit test). A model whose rows look back over a window uses
    it to also rebuild the days before it (a late file older than every other), which no
    look-back after a touched day reaches. Read before the statement runs: Spark cannot
    overwrite a table the same statement reads. -#}
{% macro first_built_day(day_column) -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select cast(min(" ~ day_column ~ ") as " ~ dbt.type_string() ~ ") from " ~ this
    ).rows -%}
    {{ return(rows[0][0] if rows | length > 0 else none) }}
{%- endmacro %}
