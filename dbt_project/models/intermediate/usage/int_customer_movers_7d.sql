{#- One row per organization, mover kind (`route` template or `api_key`) and member whose calls
    moved between the two 7-day windows (the 7 days ending on the as-of date and the 7 before).
    The one home of "movers": `change_rank` orders by the size of the move either way (the
    summary's top changes), `drop_rank` only the members that lost calls, biggest loss first
    (churn alerts); ties by name. -#}
with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_last_14_days as (

    select
        api_requests.organization_id,
        api_requests.route,
        api_requests.api_key_id,
        {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} < 7 as is_last_7_days
    from api_requests
    cross join as_of
    where {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} between 0 and 13

),

{# Routes and keys in one pass: a grouping set each. #}
count_windows as (

    select
        organization_id,
        case when grouping(route) = 0 then 'route' else 'api_key' end as mover_kind,
        coalesce(route, api_key_id) as mover_id,
        count(*) filter (where is_last_7_days) as calls_7d,
        count(*) filter (where not is_last_7_days) as calls_prior_7d
    from requests_last_14_days
    group by grouping sets ((organization_id, route), (organization_id, api_key_id))

),

rank_moves as (

    select
        organization_id,
        mover_kind,
        mover_id,
        calls_7d,
        calls_prior_7d,
        calls_7d - calls_prior_7d as calls_change_7d,
        row_number() over (
            partition by organization_id, mover_kind
            order by abs(calls_7d - calls_prior_7d) desc, mover_id
        ) as change_rank,
        case
            when calls_7d < calls_prior_7d
                then row_number() over (
                    partition by organization_id, mover_kind, calls_7d < calls_prior_7d
                    order by calls_prior_7d - calls_7d desc, mover_id
                )
        end as drop_rank
    from count_windows
    where calls_7d != calls_prior_7d and mover_id is not null

)

select * from rank_moves
