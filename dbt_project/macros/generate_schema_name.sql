{#- Use the folder's schema as is (staging, intermediate, marts), not "<target>_<schema>":
    docs/contract.md promises the marts live in the schema `marts`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
