{#- One row per organization whose integration is failing on the as-of date (docs/contract.md 2b
    `integration_failing`), keyed integration_failing:<org>:<episode start>: the episode and its
    7-day figures (int_alerts_integration_failing_episodes), the routes behind it
    (int_alerts_integration_failing_routes) and its error types over the same 7 days. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

failing_on_as_of_date as (

    select * from {{ ref('int_alerts_integration_failing_episodes') }}

),

top_failing_routes as (

    select * from {{ ref('int_alerts_integration_failing_routes') }}

),

error_breakdown_daily as (

    select * from {{ ref('error_breakdown_daily') }}

),

{# Each organization's routes as one list, most failed calls first. #}
collect_failing_routes as (

    select
        organization_id,
        {{ json_figures([
            'route',
            'method',
            'calls',
            'failed_calls',
            ('error_rate', 'round(error_rate, 4)'),
            'top_error_type',
            'top_status_code',
            'other_customers_calls',
            ('other_customers_error_rate', 'round(other_customers_error_rate, 4)'),
        ], ordered_by='route_rank') }} as failing_routes
    from top_failing_routes
    group by organization_id

),

{# The error types over the same 7 days, from the daily breakdown. #}
sum_error_types as (

    select
        error_breakdown_daily.organization_id,
        error_breakdown_daily.status_class,
        error_breakdown_daily.error_type,
        sum(error_breakdown_daily.failed_calls) as failed_calls
    from error_breakdown_daily
    inner join failing_on_as_of_date
        on error_breakdown_daily.organization_id = failing_on_as_of_date.organization_id
    cross join as_of
    where
        {{ dbt.datediff('error_breakdown_daily.usage_date', 'as_of.as_of_date', 'day') }}
        between 0 and 6
    group by
        error_breakdown_daily.organization_id,
        error_breakdown_daily.status_class,
        error_breakdown_daily.error_type

),

rank_error_types as (

    select
        *,
        row_number() over (
            partition by organization_id
            order by failed_calls desc, status_class asc, error_type asc
        ) as error_type_rank
    from sum_error_types

),

collect_error_types as (

    select
        organization_id,
        {{ json_figures(
            ['status_class', 'error_type', 'failed_calls'],
            ordered_by='error_type_rank'
        ) }} as error_types
    from rank_error_types
    where error_type_rank <= 5
    group by organization_id

),

final as (

    select
        concat_ws(
            ':',
            'integration_failing',
            failing_on_as_of_date.organization_id,
            cast(failing_on_as_of_date.episode_start_date as string)
        ) as alert_key,
        'integration_failing' as alert_type,
        failing_on_as_of_date.organization_id,
        cast(null as integer) as threshold,
        failing_on_as_of_date.as_of_date,
        {{ json_figures([
            ('episode_start_date', 'failing_on_as_of_date.episode_start_date'),
            ('plan_id', 'failing_on_as_of_date.plan_id'),
            ('calls_7d', 'failing_on_as_of_date.calls_7d'),
            ('failed_calls_7d', 'failing_on_as_of_date.failed_calls_7d'),
            ('client_errors_7d', 'failing_on_as_of_date.client_errors_7d'),
            ('server_errors_7d', 'failing_on_as_of_date.server_errors_7d'),
            ('error_rate_7d', 'round(failing_on_as_of_date.failed_calls_7d / failing_on_as_of_date.calls_7d, 4)'),
            ('calls_prior_7d', 'coalesce(failing_on_as_of_date.calls_prior_7d, 0)'),
            ('error_rate_prior_7d', 'round(failing_on_as_of_date.failed_calls_prior_7d / nullif(failing_on_as_of_date.calls_prior_7d, 0), 4)'),
            ('failing_routes', 'collect_failing_routes.failing_routes'),
            ('error_types', 'collect_error_types.error_types'),
        ]) }} as detail
    from failing_on_as_of_date
    left join collect_failing_routes
        on failing_on_as_of_date.organization_id = collect_failing_routes.organization_id
    left join collect_error_types
        on failing_on_as_of_date.organization_id = collect_error_types.organization_id

)

select * from final
