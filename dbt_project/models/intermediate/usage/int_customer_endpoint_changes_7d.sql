{#- One row per organization whose calls to some route template moved between the two 7-day
    windows (the 7 days ending on the as-of date vs the 7 days before): the three routes that
    moved most, as short text ("/v1/search -420, /v1/orders/{id} +130"), so a declining or
    growing customer comes with a reason. -#}
with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

count_route_windows as (

    select
        api_requests.organization_id,
        api_requests.route,
        count(*) filter (
            where api_requests.request_date > as_of.as_of_date - 7
        ) as calls_7d,
        count(*) filter (
            where api_requests.request_date <= as_of.as_of_date - 7
        ) as calls_prior_7d
    from api_requests
    cross join as_of
    where api_requests.request_date between as_of.as_of_date - 13 and as_of.as_of_date
    group by all

),

rank_changes as (

    select
        organization_id,
        route,
        calls_7d - calls_prior_7d as calls_change_7d,
        row_number() over (
            partition by organization_id
            order by abs(calls_7d - calls_prior_7d) desc, route
        ) as change_rank
    from count_route_windows
    where calls_7d != calls_prior_7d

),

describe_top_changes as (

    select
        organization_id,
        {{ ordered_string_agg(
            "route || ' ' || case when calls_change_7d > 0 then '+' else '' end || calls_change_7d",
            "', '",
            'change_rank'
        ) }} as top_endpoint_changes
    from rank_changes
    where change_rank <= 3
    group by all

)

select * from describe_top_changes
