{#- A lateral join adding one row per day from start_date through end_date (both included):
    `... from orgs cross join as_of {{ days_through('orgs.first_call_date', 'as_of.as_of_date') }}`,
    then `cast(spine.day as date)` is each day. Empty when end_date is before start_date.
    One spelling per engine (docs/design.md "Two engines"). -#}
{% macro days_through(start_date, end_date, alias='spine') -%}
    {{ return(adapter.dispatch('days_through')(start_date, end_date, alias)) }}
{%- endmacro %}

{% macro default__days_through(start_date, end_date, alias) -%}
    cross join lateral generate_series(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp),
        interval 1 day
    ) as {{ alias }} (day)
{%- endmacro %}

{#- sequence() fails on a backwards range, and explode(null) yields no row: hence the case.
    A lateral join, not LATERAL VIEW, so other joins may follow it. -#}
{% macro spark__days_through(start_date, end_date, alias) -%}
    cross join lateral explode(
        case
            when cast({{ end_date }} as date) >= cast({{ start_date }} as date)
                then sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)
        end
    ) as {{ alias }} (day)
{%- endmacro %}

{#- The same for whole numbers: one row per integer from first through last, as alias.column. -#}
{% macro integers_through(first, last, alias, column) -%}
    {{ return(adapter.dispatch('integers_through')(first, last, alias, column)) }}
{%- endmacro %}

{% macro default__integers_through(first, last, alias, column) -%}
    cross join lateral generate_series({{ first }}, {{ last }}) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__integers_through(first, last, alias, column) -%}
    cross join lateral explode(
        case when ({{ last }}) >= ({{ first }}) then sequence({{ first }}, {{ last }}) end
    ) as {{ alias }} ({{ column }})
{%- endmacro %}
