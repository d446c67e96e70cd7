{#- One row per alert that should exist as of the as-of date, with its deterministic key
    (docs/contract.md "Alerts"). The ledger marts.alerts (written by Dagster, never by dbt) inserts
    the keys it has not seen, so a rerun, a replay or usage hovering around a threshold never
    records an alert twice. Each type is detected in its own model in models/alerts
    (int_alerts_<type>.sql), which builds the key and the figures (`detail`, JSON); the words
    are drafted in Python (orchestration/alerts/render.py). -#}

with

quota_threshold as (

    select * from {{ ref('int_alerts_quota_threshold') }}

),

churn_risk as (

    select * from {{ ref('int_alerts_churn_risk') }}

),

usage_spike as (

    select * from {{ ref('int_alerts_usage_spike') }}

),

key_sharing_suspect as (

    select * from {{ ref('int_alerts_key_sharing_suspect') }}

),

integration_failing as (

    select * from {{ ref('int_alerts_integration_failing') }}

),

endpoint_degradation as (

    select * from {{ ref('int_alerts_endpoint_degradation') }}

),

union_alerts as (

    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from quota_threshold
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from churn_risk
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from usage_spike
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from key_sharing_suspect
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from integration_failing
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from endpoint_degradation

)

select * from union_alerts
