{#- One row per endpoint incident (a row of endpoint_incidents) and organization it hit (docs/
    contract.md 2c `endpoint_incident_customers`): the organizations its affected_customers
    counts, with their calls, 5xx, slow calls and p95 on that route, method and day. Who counts
    as hit is decided once, in int_endpoint_incident_hits, which endpoint_incidents counts: an
    incident has exactly affected_customers rows here. -#}

with

endpoint_incidents as (

    select * from {{ ref('endpoint_incidents') }}

),

int_endpoint_incident_hits as (

    select * from {{ ref('int_endpoint_incident_hits') }}

),

final as (

    select
        endpoint_incidents.route,
        endpoint_incidents.method,
        endpoint_incidents.usage_date,
        int_endpoint_incident_hits.organization_id,
        int_endpoint_incident_hits.calls,
        int_endpoint_incident_hits.server_errors,
        int_endpoint_incident_hits.slow_calls,
        int_endpoint_incident_hits.latency_p95_ms
    from endpoint_incidents
    inner join int_endpoint_incident_hits
        on
            endpoint_incidents.route = int_endpoint_incident_hits.route
            and endpoint_incidents.method = int_endpoint_incident_hits.method
            and endpoint_incidents.usage_date = int_endpoint_incident_hits.usage_date

)

select * from final
