{#- One row per organization and API version with a call in the 30 days ending on the as-of date:
    who still depends on an old version, and how much. first_call_at and last_call_at are over
    all history up to the as-of date. -#}

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
        api_requests.requested_at,
        coalesce(nullif(trim(api_requests.api_version), ''), 'unversioned') as api_version,
        {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} < 30 as is_in_window
    from api_requests
    cross join as_of
    where api_requests.request_date <= as_of.as_of_date

),

aggregate_per_version as (

    select
        organization_id,
        api_version,
        count(*) filter (where is_in_window) as calls_30d,
        min(requested_at) as first_call_at,
        max(requested_at) as last_call_at
    from label_versions
    group by all

),

add_shares as (

    select
        organization_id,
        api_version,
        calls_30d,
        calls_30d / sum(calls_30d) over (partition by organization_id) as share_of_org_calls_30d,
        first_call_at,
        last_call_at
    from aggregate_per_version
    where calls_30d > 0

)

select * from add_shares
