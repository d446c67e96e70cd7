{#- One row per API key, route template, method and UTC day with a call, up to the as-of date:
    what tells a route the key calls for the first time (key_daily_activity), and where a
    spiking key's calls went (the usage_spike alert), without reading the calls again. Incremental by touched days
    (macros/incremental_days.sql). -#}
{{ config(**incremental_by_day('usage_date')) }}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_with_key as (

    select api_requests.*
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and api_requests.api_key_id is not null
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

aggregate_per_key_route_day as (

    select
        api_key_id,
        route,
        method,
        request_date as usage_date,
        count(*) as calls,
        count(*) filter (where is_rate_limited) as rate_limited_calls,
        count(*) filter (where is_server_error) as server_errors
    from requests_with_key
    group by all

)

select * from aggregate_per_key_route_day
