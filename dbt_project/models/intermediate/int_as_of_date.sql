{#- The one as-of date every rolling window ends on (docs/contract.md): env AS_OF when given, else
    the last UTC day with api_request data. Never the wall clock, so reruns agree. -#}
{%- set as_of_override = var('as_of', env_var('AS_OF', '')) | trim -%}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

last_request_day as (

    select max(request_date) as last_request_date
    from api_requests

),

as_of as (

    select
        {% if as_of_override -%}
            cast('{{ as_of_override }}' as date)
        {%- else -%}
            last_request_date
        {%- endif %} as as_of_date,
        last_request_date
    from last_request_day

)

select * from as_of
