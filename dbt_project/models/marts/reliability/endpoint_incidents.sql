{#- One row per route template, method and day on which the route degraded against its own
    28-day baseline (docs/contract.md 2b), with how many customers the degradation hit.
    - A day qualifies with at least `incident_min_calls` calls; its baseline is built from the
      qualifying days among the 28 before it: the median of their daily p95 latency and their
      server-error rate (server errors over calls); fewer than 7 such days, no incident.
    - latency: p95 >= `incident_latency_factor` x the baseline p95; errors: server-error rate
      >= greatest(0.05, `incident_error_factor` x the baseline rate); both when both hold. -#}

{%- set min_calls = var('incident_min_calls') -%}
{%- set latency_factor = var('incident_latency_factor') -%}
{%- set error_factor = var('incident_error_factor') -%}

with

endpoint_daily_performance as (

    select * from {{ ref('endpoint_daily_performance') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

qualifying_days as (

    select
        route,
        method,
        usage_date,
        calls,
        server_errors,
        latency_p95_ms
    from endpoint_daily_performance
    where calls >= {{ min_calls }}

),

measure_baselines as (

    select
        qualifying_days.route,
        qualifying_days.method,
        qualifying_days.usage_date,
        qualifying_days.calls,
        qualifying_days.server_errors,
        qualifying_days.latency_p95_ms,
        count(*) as baseline_days,
        percentile_cont(0.5) within group (
            order by prior_days.latency_p95_ms
        ) as baseline_latency_p95_ms,
        sum(prior_days.server_errors) / sum(prior_days.calls) as baseline_server_error_rate
    from qualifying_days
    inner join qualifying_days as prior_days
        on
            qualifying_days.route = prior_days.route
            and qualifying_days.method = prior_days.method
            and {{ dbt.datediff('prior_days.usage_date', 'qualifying_days.usage_date', 'day') }}
            between 1 and 28
    group by all

),

classify_days as (

    select
        *,
        server_errors / calls as server_error_rate,
        latency_p95_ms >= {{ latency_factor }} * baseline_latency_p95_ms as is_latency_degraded,
        server_errors / calls
        >= greatest(0.05, {{ error_factor }} * baseline_server_error_rate) as is_error_degraded
    from measure_baselines
    where baseline_days >= 7

),

incident_days as (

    select
        *,
        case
            when is_latency_degraded and is_error_degraded then 'both'
            when is_latency_degraded then 'latency'
            else 'errors'
        end as kind
    from classify_days
    where is_latency_degraded or is_error_degraded

),

{# A customer is hit when one of its calls that day failed with a 5xx or took longer than the
    latency factor times the baseline p95. #}
count_affected_customers as (

    select
        incident_days.route,
        incident_days.method,
        incident_days.usage_date,
        count(distinct api_requests.organization_id) as affected_customers
    from incident_days
    inner join api_requests
        on
            incident_days.route = api_requests.route
            and incident_days.method = api_requests.method
            and incident_days.usage_date = api_requests.request_date
    where
        api_requests.is_server_error
        or api_requests.request_duration_ms
        > {{ latency_factor }} * incident_days.baseline_latency_p95_ms
    group by all

),

final as (

    select
        incident_days.route,
        incident_days.method,
        incident_days.usage_date,
        incident_days.calls,
        incident_days.latency_p95_ms,
        cast(incident_days.baseline_latency_p95_ms as double) as baseline_latency_p95_ms,
        incident_days.server_error_rate,
        incident_days.baseline_server_error_rate,
        incident_days.kind,
        coalesce(count_affected_customers.affected_customers, 0) as affected_customers,
        case
            when
                coalesce(count_affected_customers.affected_customers, 0)
                >= {{ var('incident_widespread_min_customers') }}
                then 'widespread'
            else 'isolated'
        end as scope,
        incident_days.server_errors,
        incident_days.baseline_days
    from incident_days
    left join count_affected_customers
        on
            incident_days.route = count_affected_customers.route
            and incident_days.method = count_affected_customers.method
            and incident_days.usage_date = count_affected_customers.usage_date

)

select * from final
