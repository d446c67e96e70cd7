{#- How a failed call is classified (docs/contract.md 2b `error_breakdown_daily`): its status
    class, `5xx` for a server error else `4xx`, and its error type, result.error_type trimmed and
    lower-cased, `unspecified` when absent or blank. One home for error_breakdown_daily and
    integration_failing's routes. -#}
{% macro failure_status_class(requests) -%}
    case when {{ requests }}.is_server_error then '5xx' else '4xx' end
{%- endmacro %}

{% macro failure_error_type(requests) -%}
    coalesce(nullif(lower(trim({{ requests }}.error_type)), ''), 'unspecified')
{%- endmacro %}
