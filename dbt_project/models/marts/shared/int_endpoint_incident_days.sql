{#- One row per route template, method and day on which the route degraded against its own
    28-day baseline (docs/contract.md 2b `endpoint_incidents`), before counting who it hit.
    - A day qualifies with at least `incident_min_calls` calls; its baseline is built from the
      qualifying days among the 28 before it: the median of their daily p95 latency and their
      server-error rate (server errors over calls); fewer than 7 such days, no incident.
    - latency: p95 >= `incident_latency_factor` x the baseline p95; errors: server-error rate
      >= greatest(0.05, `incident_error_factor` x the baseline rate); both when both hold.
    Reads the route-day facts only (small: routes x days). -#}

{%- set min_calls = var('incident_min_calls') -%}
{%- set latency_factor = var('incident_latency_factor') -%}
{%- set error_factor = var('incident_error_factor') -%}

with


endpoint_daily_performance as (

    select * from {{ ref('endpoint_daily_performance') }}

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

final as (

    select
        route,
        method,
        usage_date,
        calls,
        server_errors,
        latency_p95_ms,
        cast(baseline_latency_p95_ms as double) as baseline_latency_p95_ms,
        server_error_rate,
        baseline_server_error_rate,
        baseline_days,
        kind
    from incident_days

)

select * from final
