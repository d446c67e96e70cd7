{#- The one place that builds JSON: the figures behind an alert (`detail`) and the short lists
    inside it. `fields` is a list of column names, or (key, expression) pairs:
        {{ json_figures(['plan_id', ('pct_of_cap', 'cast(pct_of_cap as double)')]) }}
    is one JSON object per row. With `ordered_by` (an integer rank column), it is an aggregate:
    the JSON-ready array of those objects in rank order, null when the group has none.
    DuckDB spells it json_object / list(struct_pack), Spark to_json(named_struct) /
    collect_list; the keys and their order, nulls and timestamps are spelt the same on both. -#}
{% macro json_figures(fields, ordered_by=none) -%}
    {{ return(adapter.dispatch('json_figures')(fields, ordered_by)) }}
{%- endmacro %}

{% macro _json_figure_pairs(fields) -%}
    {%- set pairs = [] -%}
    {%- for field in fields -%}
        {%- if field is string -%}
            {%- do pairs.append((field, field)) -%}
        {%- else -%}
            {%- do pairs.append((field[0], field[1])) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(pairs) }}
{%- endmacro %}

{% macro default__json_figures(fields, ordered_by) -%}
    {%- set pairs = _json_figure_pairs(fields) -%}
    {%- if ordered_by is none -%}
        json_object(
            {%- for key, value in pairs %}
            '{{ key }}', {{ value }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    {%- else -%}
        list(
            struct_pack(
                {%- for key, value in pairs %}
                "{{ key }}" := {{ value }}{{ ',' if not loop.last }}
                {%- endfor %}
            )
            order by {{ ordered_by }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro spark__json_figures(fields, ordered_by) -%}
    {%- set pairs = _json_figure_pairs(fields) -%}
    {%- if ordered_by is none -%}
        {#- The same text as DuckDB's: null fields kept, timestamps as `2026-10-07 14:28:29.346`
            (DuckDB prints the fraction without its trailing zeros, and none when it is zero). -#}
        regexp_replace(regexp_replace(
            to_json(
                named_struct(
                    {%- for key, value in pairs %}
                    '{{ key }}', {{ value }}{{ ',' if not loop.last }}
                    {%- endfor %}
                ),
                map('ignoreNullFields', 'false', 'timestampFormat', 'yyyy-MM-dd HH:mm:ss.SSSSSS')
            ),
            '([0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]*?)0+"', '$1"'),
            '([0-9]{2}:[0-9]{2}:[0-9]{2})[.]"', '$1"'
        )
    {%- else -%}
        transform(
            array_sort(collect_list(named_struct(
                'rank', {{ ordered_by }},
                'figures', named_struct(
                    {%- for key, value in pairs %}
                    '{{ key }}', {{ value }}{{ ',' if not loop.last }}
                    {%- endfor %}
                )
            ))),
            ranked -> ranked.figures
        )
    {%- endif -%}
{%- endmacro %}
