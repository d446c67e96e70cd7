{#- The build identity: after a dbt invocation that built a model, its invocation id is written to
    a file beside the DuckDB warehouse (warehouse.duckdb.build-id). The published snapshot
    records the id it was taken after; readers compare the two to tell that a hand-run `dbt
    build` changed the marts since (orchestration/readers.py), without opening the live file
    and without counting the pipeline's own later writes (the alert ledger) as a change. -#}
{% macro record_build_identity(results) -%}
    {{ return(adapter.dispatch('record_build_identity')(results)) }}
{%- endmacro %}

{#- Spark keeps no warehouse file: nothing to record. -#}
{% macro default__record_build_identity(results) -%}
{%- endmacro %}

{% macro duckdb__record_build_identity(results) -%}
    {%- set built = results | selectattr('node.resource_type', 'equalto', 'model') | selectattr('status', 'equalto', 'success') | list -%}
    {%- if execute and built and target.path -%}
        copy (select '{{ invocation_id }}' as dbt_invocation_id)
        to '{{ (target.path ~ ".build-id") | replace("'", "''") }}' (format csv, header false)
    {%- endif -%}
{%- endmacro %}
