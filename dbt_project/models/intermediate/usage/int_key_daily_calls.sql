{#- One row per API key and UTC day with a call, up to the as-of date: the key's day in figures
    (calls, successes, failures, auth errors, distinct IP hashes, countries and routes, first
    call and first 2xx). Incremental by touched days (macros/incremental_days.sql); the key
    marts (key_daily_activity, active_customers_daily, onboarding_funnel) read it instead of
    the calls. -#}
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

aggregate_per_key_day as (

    select
        api_key_id,
        request_date as usage_date,
        max_by(organization_id, requested_at) as organization_id,
        count(*) as calls,
        count(*) filter (where is_successful) as successful_calls,
        count(*) filter (where is_client_error or is_server_error) as failed_calls,
        count(*) filter (where status_code in (401, 403)) as auth_errors,
        count(distinct network_ip_hash) as distinct_ip_hashes,
        count(distinct network_country) as distinct_countries,
        count(distinct route) as distinct_routes,
        min(requested_at) as first_call_at,
        min(requested_at) filter (where is_2xx) as first_success_at
    from requests_with_key
    group by all

)

select * from aggregate_per_key_day
