{#- A lateral join adding one row per day from start_date through end_date (both included):
    `... from orgs cross join as_of {{ days_through('orgs.first_call_date', 'as_of.as_of_date') }}`,
    then `cast(spine.day as date)` is each day. Empty when end_date is before start_date. -#}
{% macro days_through(start_date, end_date, alias='spine') -%}
    cross join lateral generate_series(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp),
        interval 1 day
    ) as {{ alias }} (day)
{%- endmacro %}
