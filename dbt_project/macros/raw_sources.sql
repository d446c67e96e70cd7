{#- The raw tables as each engine finds them (docs/design.md "Two engines"). On DuckDB the loader
    writes raw.events, raw.event_rejects and raw.loaded_files into the warehouse file itself:
    nothing to do. On Spark they are the Parquet folders the loader lands under LANDING_DIR
    (orchestration/loading/landing.py): declared here as external tables, so
    source('raw', 'events') means the same rows on both engines. Run as an on-run-start hook. -#}
{% macro declare_raw_sources() -%}
    {{ return(adapter.dispatch('declare_raw_sources')()) }}
{%- endmacro %}

{% macro default__declare_raw_sources() -%}
    select 1 as nothing_to_declare
{%- endmacro %}

{% macro spark__declare_raw_sources() -%}
    {%- set landing_dir = var('landing_dir', '') or env_var('LANDING_DIR', '../data/landing') -%}
    {%- do run_query('create schema if not exists raw') -%}
    {%- for table in ['events', 'event_rejects', 'loaded_files'] -%}
        {%- do run_query('drop table if exists raw.' ~ table) -%}
        {%- do run_query(
            'create table raw.' ~ table ~ " using parquet location '" ~ landing_dir ~ '/' ~ table ~ "'"
        ) -%}
    {%- endfor -%}
    select 1 as raw_sources_declared
{%- endmacro %}
