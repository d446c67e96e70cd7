{#- One row per organization whose calls to some route template moved between the two 7-day
    windows (the 7 days ending on the as-of date vs the 7 days before): the three routes that
    moved most (int_customer_movers_7d), as short text ("/v1/search -420, /v1/orders/{id} +130"), so a declining or
    growing customer comes with a reason. -#}
with

movers as (

    select * from {{ ref('int_customer_movers_7d') }}

),

describe_top_changes as (

    select
        organization_id,
        string_agg(
            mover_id || ' ' || case when calls_change_7d > 0 then '+' else '' end || calls_change_7d,
            ', '
            order by change_rank
        ) as top_endpoint_changes
    from movers
    where mover_kind = 'route' and change_rank <= 3
    group by organization_id

)

select * from describe_top_changes
