{#- The one as-of date every rolling window ends on (CONTRACT.md): env AS_OF when given, else
    the last UTC day with api_request data. Never the wall clock, so reruns agree. -#}
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
        {%- if env_var('AS_OF', '') | trim %}
        cast('{{ env_var("AS_OF") | trim }}' as date) as as_of_date,
        {%- else %}
        last_request_date as as_of_date,
        {%- endif %}
        last_request_date
    from last_request_day

)

select * from as_of
