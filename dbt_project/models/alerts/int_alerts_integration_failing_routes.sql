{#- One row per organization whose integration is failing on the as-of date
    (int_alerts_integration_failing_episodes) and route among its five with the most failed calls
    over the 7 days ending on it: the route's most common failure and how the same route fares
    for every other customer, so a broken integration can be told from an API bug. Read from
    the day-grain facts, never the calls. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

failing_organizations as (

    select * from {{ ref('int_alerts_integration_failing_episodes') }}

),

endpoint_daily_performance as (

    select * from {{ ref('endpoint_daily_performance') }}

),

customer_endpoint_daily as (

    select * from {{ ref('customer_endpoint_daily') }}

),

int_customer_route_failures_daily as (

    select * from {{ ref('int_customer_route_failures_daily') }}

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
    inner join failing_organizations
        on int_customer_route_failures_daily.organization_id = failing_organizations.organization_id
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
    inner join failing_organizations
        on customer_endpoint_daily.organization_id = failing_organizations.organization_id
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

final as (

    select
        organization_id,
        route_rank,
        route,
        method,
        calls,
        failed_calls,
        error_rate,
        top_error_type,
        top_status_code,
        other_customers_calls,
        other_customers_error_rate
    from rank_failing_routes
    where route_rank <= 5

)

select * from final
