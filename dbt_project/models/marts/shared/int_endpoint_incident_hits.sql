{#- One row per endpoint incident (route template, method, day) and organization it hit (docs/
    contract.md 2b `endpoint_incidents.affected_customers`): the one home of "affected customer",
    read by endpoint_incidents (how many), endpoint_incident_customers and the
    endpoint_degradation alert (who), so the count and the list cannot differ. It reads the calls
    of the incident days, over all history: a day past raw retention keeps the rows it had
    (macros/retention.sql `sealed_days_kept`), every other day is counted again. -#}
{{ config(**sealed_days_kept('usage_date')) }}
{%- set latency_factor = var('incident_latency_factor') -%}

with

int_endpoint_incident_days as (

    select * from {{ ref('int_endpoint_incident_days') }}
    where {{ unsealed_days('usage_date') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

{# Only the calls between the first and the last incident day: the join below keeps the
    incident days, this bound lets the engine skip the calls of the other days. #}
incident_day_range as (

    select
        min(usage_date) as first_incident_date,
        max(usage_date) as last_incident_date
    from int_endpoint_incident_days

),

incident_requests as (

    select
        api_requests.route,
        api_requests.method,
        api_requests.request_date,
        api_requests.organization_id,
        api_requests.is_server_error,
        api_requests.request_duration_ms
    from api_requests
    inner join incident_day_range
        on
            api_requests.request_date between incident_day_range.first_incident_date
            and incident_day_range.last_incident_date

),

{# A customer is hit when one of its calls that day failed with a 5xx or took longer than the
    latency factor times the baseline p95. #}
count_hits_per_organization as (

    select
        int_endpoint_incident_days.route,
        int_endpoint_incident_days.method,
        int_endpoint_incident_days.usage_date,
        incident_requests.organization_id,
        count(*) as calls,
        count(*) filter (where incident_requests.is_server_error) as server_errors,
        count(*) filter (
            where incident_requests.request_duration_ms
            > {{ latency_factor }} * int_endpoint_incident_days.baseline_latency_p95_ms
        ) as slow_calls,
        {{ latency_percentile('incident_requests.request_duration_ms', 0.95) }} as latency_p95_ms
    from int_endpoint_incident_days
    inner join incident_requests
        on
            int_endpoint_incident_days.route = incident_requests.route
            and int_endpoint_incident_days.method = incident_requests.method
            and int_endpoint_incident_days.usage_date = incident_requests.request_date
    group by all

),

final as (

    select
        route,
        method,
        usage_date,
        organization_id,
        calls,
        server_errors,
        slow_calls,
        cast(latency_p95_ms as double) as latency_p95_ms
    from count_hits_per_organization
    where server_errors > 0 or slow_calls > 0

)

select * from final
