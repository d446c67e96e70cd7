{#- One row per organization, API version (`unversioned` when absent) and UTC day with a call,
    up to the as-of date: calls and the first and last call of the day. Incremental by touched
    days (macros/incremental_days.sql); api_version_exposure reads it instead of the calls. -#}
{{ config(**incremental_by_day('usage_date')) }}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

label_versions as (

    select
        api_requests.organization_id,
        api_requests.request_date,
        api_requests.requested_at,
        coalesce(nullif(trim(api_requests.api_version), ''), 'unversioned') as api_version
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

aggregate_per_version_day as (

    select
        organization_id,
        api_version,
        request_date as usage_date,
        count(*) as calls,
        min(requested_at) as first_call_at,
        max(requested_at) as last_call_at
    from label_versions
    group by all

)

select * from aggregate_per_version_day
