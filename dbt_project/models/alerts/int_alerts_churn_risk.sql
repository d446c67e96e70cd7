{#- One row per organization with a churn episode in force on the as-of date
    (int_alerts_churn_episodes): churn_risk:<org>:<episode start>. detail: the summary's
    figures, and the routes and keys that lost the most calls (int_customer_movers_7d, up to
    three each, biggest loss first). Figures only: the words are drafted in
    orchestration/alerts/churn_notes.py. -#}
with

churn_episodes as (

    select * from {{ ref('int_alerts_churn_episodes') }}

),

customer_usage_summary as (

    select * from {{ ref('customer_usage_summary') }}

),

movers as (

    select * from {{ ref('int_customer_movers_7d') }}

),

collect_route_drops as (

    select
        organization_id,
        {{ json_figures([
            ('route', 'mover_id'),
            'calls_prior_7d',
            'calls_7d',
            ('change', 'calls_change_7d'),
        ], ordered_by='drop_rank') }} as top_endpoint_drops
    from movers
    where mover_kind = 'route' and drop_rank <= 3
    group by organization_id

),

collect_key_drops as (

    select
        organization_id,
        {{ json_figures([
            ('api_key_id', 'mover_id'),
            'calls_prior_7d',
            'calls_7d',
            ('change', 'calls_change_7d'),
        ], ordered_by='drop_rank') }} as top_key_drops
    from movers
    where mover_kind = 'api_key' and drop_rank <= 3
    group by organization_id

),

final as (

    select
        concat_ws(
            ':',
            'churn_risk',
            churn_episodes.organization_id,
            cast(churn_episodes.episode_start_date as string)
        ) as alert_key,
        'churn_risk' as alert_type,
        churn_episodes.organization_id,
        cast(null as integer) as threshold,
        churn_episodes.as_of_date,
        {{ json_figures([
            ('trend', 'customer_usage_summary.trend'),
            ('episode_start_date', 'churn_episodes.episode_start_date'),
            ('plan_id', 'customer_usage_summary.plan_id'),
            ('calls_7d', 'customer_usage_summary.calls_7d'),
            ('calls_prior_7d', 'customer_usage_summary.calls_prior_7d'),
            ('usage_change_7d_pct', 'customer_usage_summary.usage_change_7d_pct'),
            ('calls_30d', 'customer_usage_summary.calls_30d'),
            ('active_days_30d', 'customer_usage_summary.active_days_30d'),
            ('days_since_last_call', 'customer_usage_summary.days_since_last_call'),
            ('last_call_at', 'customer_usage_summary.last_call_at'),
            ('top_endpoint_drops', 'collect_route_drops.top_endpoint_drops'),
            ('top_key_drops', 'collect_key_drops.top_key_drops'),
        ]) }} as detail
    from churn_episodes
    inner join customer_usage_summary
        on churn_episodes.organization_id = customer_usage_summary.organization_id
    left join collect_route_drops
        on churn_episodes.organization_id = collect_route_drops.organization_id
    left join collect_key_drops
        on churn_episodes.organization_id = collect_key_drops.organization_id

)

select * from final
