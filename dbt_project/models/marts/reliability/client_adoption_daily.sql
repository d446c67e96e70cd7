{#- One row per day, API version and SDK version with a call, up to the as-of date: who calls
    which version of the API with which client (`unversioned` / `unknown` when absent). -#}
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
        api_requests.request_date,
        api_requests.organization_id,
        api_requests.api_key_id,
        coalesce(nullif(trim(api_requests.api_version), ''), 'unversioned') as api_version,
        coalesce(nullif(trim(api_requests.sdk_version), ''), 'unknown') as sdk_version
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

aggregate_per_version_day as (

    select
        request_date as usage_date,
        api_version,
        sdk_version,
        count(*) as calls,
        count(distinct organization_id) as distinct_customers,
        count(distinct api_key_id) as distinct_keys
    from label_versions
    group by all

)

select * from aggregate_per_version_day
