{#- One row per organization whose integration is failing on the as-of date (docs/contract.md 2b
    `integration_failing`): at least `failing_min_calls` (100) calls in the 7 days ending on it
    and an error rate (4xx + 5xx over calls) of at least `failing_error_rate` (0.5) over them.
    integration_failing:<org>:<episode start>, the episode being the unbroken run of failing
    days ending on the as-of date, recomputed for every day from the daily usage (as churn_risk).
    `detail` names the routes and error types behind it, and how the same routes fare for the
    other customers, so a broken integration can be told from an API bug. -#}
{%- set failing_min_calls = var('failing_min_calls') -%}
{%- set failing_error_rate = var('failing_error_rate') -%}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

customer_daily_usage as (

    select * from {{ ref('customer_daily_usage') }}

),

endpoint_daily_performance as (

    select * from {{ ref('endpoint_daily_performance') }}

),

error_breakdown_daily as (

    select * from {{ ref('error_breakdown_daily') }}

),

customer_endpoint_daily as (

    select * from {{ ref('customer_endpoint_daily') }}

),

int_customer_route_failures_daily as (

    select * from {{ ref('int_customer_route_failures_daily') }}

),

{# customer_daily_usage is dense (zero-filled), so 7 rows are 7 days. #}
sum_daily_windows as (

    select
        customer_daily_usage.organization_id,
        customer_daily_usage.usage_date,
        customer_daily_usage.plan_id,
        sum(customer_daily_usage.calls) over last_7_days as calls_7d,
        sum(
            customer_daily_usage.client_errors + customer_daily_usage.server_errors
        ) over last_7_days as failed_calls_7d,
        sum(customer_daily_usage.client_errors) over last_7_days as client_errors_7d,
        sum(customer_daily_usage.server_errors) over last_7_days as server_errors_7d,
        sum(customer_daily_usage.calls) over prior_7_days as calls_prior_7d,
        sum(
            customer_daily_usage.client_errors + customer_daily_usage.server_errors
        ) over prior_7_days as failed_calls_prior_7d
    from customer_daily_usage
    cross join as_of
    where customer_daily_usage.usage_date <= as_of.as_of_date
    window
        last_7_days as (
            partition by customer_daily_usage.organization_id
            order by customer_daily_usage.usage_date
            rows between 6 preceding and current row
        ),
        prior_7_days as (
            partition by customer_daily_usage.organization_id
            order by customer_daily_usage.usage_date
            rows between 13 preceding and 7 preceding
        )

),

flag_failing_days as (

    select
        *,
        calls_7d >= {{ failing_min_calls }}
        and failed_calls_7d >= {{ failing_error_rate }} * calls_7d as is_failing
    from sum_daily_windows

),

find_episodes as (

    {{ flag_episodes('flag_failing_days', ['organization_id'], 'is_failing') }}

),

failing_on_as_of_date as (

    select
        flag_failing_days.*,
        find_episodes.episode_start_date
    from flag_failing_days
    inner join as_of
        on flag_failing_days.usage_date = as_of.as_of_date
    inner join find_episodes
        on
            flag_failing_days.organization_id = find_episodes.organization_id
            and as_of.as_of_date = find_episodes.episode_last_date
    where flag_failing_days.is_failing

),

{# Each route's figures over the 7 days, from the day-grain facts rather than the calls. #}
sum_route_failure_kinds as (

    select
        int_customer_route_failures_daily.organization_id,
        int_customer_route_failures_daily.route,
        int_customer_route_failures_daily.method,
        int_customer_route_failures_daily.error_type,
        int_customer_route_failures_daily.status_code,
        cast(sum(int_customer_route_failures_daily.failed_calls) as bigint) as failure_kind_calls
    from int_customer_route_failures_daily
    inner join failing_on_as_of_date
        on int_customer_route_failures_daily.organization_id = failing_on_as_of_date.organization_id
    cross join as_of
    where
        {{ dbt.datediff('int_customer_route_failures_daily.usage_date', 'as_of.as_of_date', 'day') }}
        between 0 and 6
    group by
        int_customer_route_failures_daily.organization_id,
        int_customer_route_failures_daily.route,
        int_customer_route_failures_daily.method,
        int_customer_route_failures_daily.error_type,
        int_customer_route_failures_daily.status_code

),

{# Each route's most common failure (error type and status), ties broken by name and code. #}
rank_route_failure_kinds as (

    select
        *,
        row_number() over (
            partition by organization_id, route, method
            order by failure_kind_calls desc, error_type asc, status_code asc
        ) as failure_kind_rank
    from sum_route_failure_kinds

),

sum_route_calls as (

    select
        customer_endpoint_daily.organization_id,
        customer_endpoint_daily.route,
        customer_endpoint_daily.method,
        cast(sum(customer_endpoint_daily.calls) as bigint) as calls,
        cast(
            sum(customer_endpoint_daily.client_errors + customer_endpoint_daily.server_errors) as bigint
        ) as failed_calls
    from customer_endpoint_daily
    inner join failing_on_as_of_date
        on customer_endpoint_daily.organization_id = failing_on_as_of_date.organization_id
    cross join as_of
    where
        {{ dbt.datediff('customer_endpoint_daily.usage_date', 'as_of.as_of_date', 'day') }}
        between 0 and 6
    group by
        customer_endpoint_daily.organization_id,
        customer_endpoint_daily.route,
        customer_endpoint_daily.method

),

count_route_failures as (

    select
        sum_route_calls.organization_id,
        sum_route_calls.route,
        sum_route_calls.method,
        sum_route_calls.calls,
        sum_route_calls.failed_calls,
        rank_route_failure_kinds.error_type as top_error_type,
        rank_route_failure_kinds.status_code as top_status_code
    from sum_route_calls
    left join rank_route_failure_kinds
        on
            sum_route_calls.organization_id = rank_route_failure_kinds.organization_id
            and sum_route_calls.route = rank_route_failure_kinds.route
            and sum_route_calls.method = rank_route_failure_kinds.method
            and rank_route_failure_kinds.failure_kind_rank = 1

),

{# The same routes over the same 7 days for every other customer: if they are fine, the fault is
    most likely in this integration. #}
sum_route_totals as (

    select
        endpoint_daily_performance.route,
        endpoint_daily_performance.method,
        sum(endpoint_daily_performance.calls) as calls,
        sum(
            endpoint_daily_performance.client_errors + endpoint_daily_performance.server_errors
        ) as failed_calls
    from endpoint_daily_performance
    cross join as_of
    where
        {{ dbt.datediff('endpoint_daily_performance.usage_date', 'as_of.as_of_date', 'day') }}
        between 0 and 6
    group by all

),

rank_failing_routes as (

    select
        count_route_failures.*,
        count_route_failures.failed_calls / count_route_failures.calls as error_rate,
        sum_route_totals.calls - count_route_failures.calls as other_customers_calls,
        (sum_route_totals.failed_calls - count_route_failures.failed_calls)
        / nullif(sum_route_totals.calls - count_route_failures.calls, 0) as other_customers_error_rate,
        row_number() over (
            partition by count_route_failures.organization_id
            order by
                count_route_failures.failed_calls desc,
                count_route_failures.route asc,
                count_route_failures.method asc
        ) as route_rank
    from count_route_failures
    left join sum_route_totals
        on
            count_route_failures.route = sum_route_totals.route
            and count_route_failures.method = sum_route_totals.method
    where count_route_failures.failed_calls > 0

),

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
    from rank_failing_routes
    where route_rank <= 5
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
        failing_on_as_of_date.usage_date as as_of_date,
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
