{#- The small differences between DuckDB and Spark SQL, one dispatch macro each (docs/design.md
    "Two engines"): the DuckDB spelling is default__, the Spark one spark__. Models call these
    and are otherwise written in SQL both engines accept (scripts/check_portable_sql.py). -#}

{#- The value of the row with the largest (key_1, key_2, ...): keys compared left to right. -#}
{% macro value_at_max(value, keys) -%}
    {{ return(adapter.dispatch('value_at_max')(value, keys)) }}
{%- endmacro %}

{% macro default__value_at_max(value, keys) -%}
    arg_max({{ value }}, ({{ keys | join(', ') }}))
{%- endmacro %}

{% macro spark__value_at_max(value, keys) -%}
    max_by({{ value }}, struct({{ keys | join(', ') }}))
{%- endmacro %}

{#- The last non-null value of expression in a window frame (carry forward). -#}
{% macro last_value_ignoring_nulls(expression) -%}
    {{ return(adapter.dispatch('last_value_ignoring_nulls')(expression)) }}
{%- endmacro %}

{% macro default__last_value_ignoring_nulls(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignoring_nulls(expression) -%}
    last_value({{ expression }}, true)
{%- endmacro %}

{#- Whole-number division, truncated toward zero (both operands whole numbers). -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}

{#- Milliseconds since 1970-01-01 00:00:00 UTC of a timestamp (stored as UTC). -#}
{% macro epoch_milliseconds(timestamp) -%}
    {{ return(adapter.dispatch('epoch_milliseconds')(timestamp)) }}
{%- endmacro %}

{% macro default__epoch_milliseconds(timestamp) -%}
    epoch_ms({{ timestamp }})
{%- endmacro %}

{% macro spark__epoch_milliseconds(timestamp) -%}
    unix_millis(cast({{ timestamp }} as timestamp))
{%- endmacro %}

{#- The texts of a group joined by separator, in the order of order_by. -#}
{% macro ordered_string_agg(text, separator, order_by) -%}
    {{ return(adapter.dispatch('ordered_string_agg')(text, separator, order_by)) }}
{%- endmacro %}

{% macro default__ordered_string_agg(text, separator, order_by) -%}
    string_agg({{ text }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_string_agg(text, separator, order_by) -%}
    listagg({{ text }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- Every column of a source table except the named ones, comma-separated: `* exclude (...)`
    in SQL both engines accept. Reads the real table's columns (also inside a unit test, where
    source() names a fixture); nothing at parse time. -#}
{% macro source_columns_except(source_name, table_name, excluded) -%}
    {%- if execute -%}
        {#- The source's schema is named after it (models/staging/_raw__sources.yml). -#}
        {%- set relation = adapter.get_relation(target.database, source_name, table_name) -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower not in excluded -%}
                {%- do names.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
        {{ names | join(',\n        ') }}
    {%- else -%}
        *
    {%- endif -%}
{%- endmacro %}

{#- p50, p95 or p99 of a latency column in a group (percentile_cont's interpolation). Every call
    names the same three fractions, so the engine keeps one set of values per group for all three
    (DuckDB and Spark both merge identical aggregates): three `percentile_cont ... within group`
    kept three, and at 100M events DuckDB spilled more than 37 GB of them and filled the disk
    (docs/performance.md, "100M events over 90 days"). -#}
{% macro latency_percentile(column, fraction) -%}
    {%- set fractions = [0.5, 0.95, 0.99] -%}
    {%- if fraction not in fractions -%}
        {{ exceptions.raise_compiler_error("latency_percentile: fraction must be one of " ~ fractions) }}
    {%- endif -%}
    {{ return(adapter.dispatch('latency_percentile')(column, fractions, fractions.index(fraction) + 1)) }}
{%- endmacro %}

{% macro default__latency_percentile(column, fractions, position) -%}
    quantile_cont({{ column }}, [{{ fractions | join(', ') }}])[{{ position }}]
{%- endmacro %}

{% macro spark__latency_percentile(column, fractions, position) -%}
    element_at(percentile({{ column }}, array({{ fractions | join(', ') }})), {{ position }})
{%- endmacro %}
