{#- One row per organization, version source and API version with a call in the 30 days ending
    on the as-of date: who still depends on an old version, and how much (the one home of the
    rule; api_version_exposure keeps the header rows, api_path_version_exposure the path's). `header` reads the
    api.version header, `path` the route's major version (/v1/... -> v1); each call counts once
    under each, so a reader of one source filters on it. Shares are within the organization's
    calls of the same source; first_call_at and last_call_at are over all history up to the as-of
    date. Read from the daily facts (int_customer_version_daily), never from all the calls. -#}

with

version_days as (

    select * from {{ ref('int_customer_version_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

aggregate_per_version as (

    select
        version_days.organization_id,
        version_days.version_source,
        version_days.api_version,
        coalesce(sum(version_days.calls) filter (
            where {{ dbt.datediff('version_days.usage_date', 'as_of.as_of_date', 'day') }} < 30
        ), 0) as calls_30d,
        min(version_days.first_call_at) as first_call_at,
        max(version_days.last_call_at) as last_call_at
    from version_days
    cross join as_of
    group by all

),

add_shares as (

    select
        organization_id,
        version_source,
        api_version,
        cast(calls_30d as bigint) as calls_30d,
        calls_30d / sum(calls_30d) over (partition by organization_id, version_source) as share_of_org_calls_30d,
        first_call_at,
        last_call_at
    from aggregate_per_version
    where calls_30d > 0

)

select * from add_shares
