{#- One row per route template, method and day on which the route degraded against its own
    28-day baseline (docs/contract.md 2b), with how many customers the degradation hit. The
    degradation rule lives in int_endpoint_incident_days, who counts as hit in
    int_endpoint_incident_hits; this mart counts them and sets the scope. -#}

with

int_endpoint_incident_days as (

    select * from {{ ref('int_endpoint_incident_days') }}

),

int_endpoint_incident_hits as (

    select * from {{ ref('int_endpoint_incident_hits') }}

),

count_affected_customers as (

    select
        route,
        method,
        usage_date,
        count(distinct organization_id) as affected_customers
    from int_endpoint_incident_hits
    group by all

),

final as (

    select
        int_endpoint_incident_days.route,
        int_endpoint_incident_days.method,
        int_endpoint_incident_days.usage_date,
        int_endpoint_incident_days.calls,
        int_endpoint_incident_days.latency_p95_ms,
        int_endpoint_incident_days.baseline_latency_p95_ms,
        int_endpoint_incident_days.server_error_rate,
        int_endpoint_incident_days.baseline_server_error_rate,
        int_endpoint_incident_days.kind,
        coalesce(count_affected_customers.affected_customers, 0) as affected_customers,
        case
            when
                coalesce(count_affected_customers.affected_customers, 0)
                >= {{ var('incident_widespread_min_customers') }}
                then 'widespread'
            else 'isolated'
        end as scope,
        int_endpoint_incident_days.server_errors,
        int_endpoint_incident_days.baseline_days
    from int_endpoint_incident_days
    left join count_affected_customers
        on
            int_endpoint_incident_days.route = count_affected_customers.route
            and int_endpoint_incident_days.method = count_affected_customers.method
            and int_endpoint_incident_days.usage_date = count_affected_customers.usage_date

)

select * from final
