{#- One row per organization, version source, API version and UTC day with a call, up to the
    as-of date: calls and the first and last call of the day. Each call counts under two sources:
    `header`, its api.version (`unversioned` when absent), and `path`, the major version its route
    template starts with (`/v1/orders` -> `v1`; `unversioned` when none). Incremental by touched
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
        coalesce(nullif(trim(api_requests.api_version), ''), 'unversioned') as header_version,
        {#- regexp_extract gives '' without a match on both engines (no backslash in the pattern,
            so Spark's string literal reads it as DuckDB does). -#}
        coalesce(
            nullif(regexp_extract(lower(api_requests.route), '^/(v[0-9]+)(/|$)', 1), ''), 'unversioned'
        ) as path_version
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

{# One pass over the calls; each pair of versions then counts once under each source. #}
aggregate_per_version_pair as (

    select
        organization_id,
        header_version,
        path_version,
        request_date as usage_date,
        count(*) as calls,
        min(requested_at) as first_call_at,
        max(requested_at) as last_call_at
    from label_versions
    group by all

),

split_by_source as (

    select
        organization_id,
        'header' as version_source,
        header_version as api_version,
        usage_date,
        calls,
        first_call_at,
        last_call_at
    from aggregate_per_version_pair

    union all

    select
        organization_id,
        'path' as version_source,
        path_version as api_version,
        usage_date,
        calls,
        first_call_at,
        last_call_at
    from aggregate_per_version_pair

),

aggregate_per_version_day as (

    select
        organization_id,
        version_source,
        api_version,
        usage_date,
        cast(sum(calls) as bigint) as calls,
        min(first_call_at) as first_call_at,
        max(last_call_at) as last_call_at
    from split_by_source
    group by all

)

select * from aggregate_per_version_day
