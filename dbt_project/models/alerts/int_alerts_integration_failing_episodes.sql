{#- One row per organization whose integration is failing on the as-of date (docs/contract.md 2b
    `integration_failing`): at least `failing_min_calls` (100) calls in the 7 days ending on it
    and an error rate (4xx + 5xx over calls) of at least `failing_error_rate` (0.5) over them,
    with the first day of its episode (the unbroken run of failing days ending on the as-of
    date, recomputed for every day from the daily usage, as churn_risk) and the 7-day figures.
    The alert, keyed on the episode, is int_alerts_integration_failing. -#}
{%- set failing_min_calls = var('failing_min_calls') -%}
{%- set failing_error_rate = var('failing_error_rate') -%}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

customer_daily_usage as (

    select * from {{ ref('customer_daily_usage') }}

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

final as (

    select
        organization_id,
        usage_date as as_of_date,
        plan_id,
        calls_7d,
        failed_calls_7d,
        client_errors_7d,
        server_errors_7d,
        calls_prior_7d,
        failed_calls_prior_7d,
        episode_start_date
    from failing_on_as_of_date

)

select * from final
