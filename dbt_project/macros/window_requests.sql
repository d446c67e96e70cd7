{#- The windows every "last N days" figure is taken over (contract 2c): 1, 7 and 30 days ending on
    the as-of date, the one home of that rule. -#}
{% macro report_windows() -%}
    {{ return([1, 7, 30]) }}
{%- endmacro %}

{#- One row per window length. -#}
{% macro report_windows_sql() -%}
    {%- for window_days in report_windows() %}
    select {{ window_days }} as window_days
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The staged calls of the longest window, each once per window it falls in (a call
    `days_before_as_of` days before the as-of date is in every window longer than that: the
    as-of date's calls in all three, a call 29 days before in the 30-day one only), with
    `columns` of stg_api_requests, the window and the as-of date. Reads only the longest
    window's days, never all history. -#}
{% macro requests_per_window(columns) -%}
    {%- set longest = report_windows() | max -%}
    select
        windows.window_days,
        {%- for column in columns %}
        api_requests.{{ column }},
        {%- endfor %}
        as_of.as_of_date
    from {{ ref('stg_api_requests') }} as api_requests
    cross join {{ ref('int_as_of_date') }} as as_of
    inner join ({{ report_windows_sql() }}) as windows
        on {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} < windows.window_days
    where
        api_requests.request_date
        between cast({{ dbt.dateadd('day', 1 - longest, 'as_of.as_of_date') }} as date)
        and as_of.as_of_date
{%- endmacro %}
