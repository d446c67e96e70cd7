{#- Plain Parquet tables cannot hold NOT NULL constraints (Delta and Iceberg can): on Spark with
    Parquet the contracts enforce column names and types, and the not_null constraints are
    skipped (logged) instead of failing the build. With Delta or Iceberg, delete this override
    (docs/scaling.md). -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) -%}
    {%- do log('not_null constraints of ' ~ relation ~ ' are checked by data tests (Parquet tables)', info=false) -%}
{%- endmacro %}
