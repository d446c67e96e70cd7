{#- One row per alert that should exist as of the as-of date, with its deterministic key
    (docs/contract.md "Alerts"). The ledger marts.alerts (written by Dagster, never by dbt) inserts
    the keys it has not seen, so a rerun, a replay or usage hovering around a threshold never
    records an alert twice.
    - quota_threshold:<org>:<YYYY-MM>:<80|95|100>: pct_of_cap on the as-of date has reached the
      threshold; a jump records every threshold passed; a new billing month re-arms.
    - churn_risk:<org>:<episode start date>: trend on the as-of date is declining or dormant. The
      trend is recomputed for every day from the daily usage (never from run history), so the
      first day of the episode, and the key, are the same on every rerun.
    - usage_spike, key_sharing_suspect, integration_failing, endpoint_degradation (docs/contract.md
      2b): each detected in its own model, models/intermediate/alerts/int_alerts_<type>.sql. -#}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

quota_utilization as (

    select * from {{ ref('quota_utilization') }}

),

upgrade_opportunities as (

    select * from {{ ref('upgrade_opportunities') }}

),

customer_usage_summary as (

    select * from {{ ref('customer_usage_summary') }}

),

customer_daily_usage as (

    select * from {{ ref('customer_daily_usage') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

reliability_alerts as (

    select * from {{ ref('int_alerts_usage_spike') }}
    union all
    select * from {{ ref('int_alerts_key_sharing_suspect') }}
    union all
    select * from {{ ref('int_alerts_integration_failing') }}
    union all
    select * from {{ ref('int_alerts_endpoint_degradation') }}

),

thresholds as (

    select unnest([80, 95, 100]) as threshold

),

quota_on_as_of_date as (

    select
        quota_utilization.organization_id,
        quota_utilization.usage_date,
        quota_utilization.billing_month,
        quota_utilization.plan_id,
        quota_utilization.monthly_call_limit,
        quota_utilization.used_today,
        quota_utilization.used_mtd,
        cast(quota_utilization.pct_of_cap as double) as pct_of_cap,
        quota_utilization.projected_eom,
        quota_utilization.days_to_cap,
        quota_utilization.will_exceed,
        last_day(quota_utilization.usage_date) - quota_utilization.usage_date as days_left_in_month,
        last_day(quota_utilization.usage_date) + 1 as quota_resets_on,
        upgrade_opportunities.next_plan_id,
        upgrade_opportunities.next_plan_call_limit,
        upgrade_opportunities.plan_monthly_price,
        upgrade_opportunities.next_plan_monthly_price,
        upgrade_opportunities.upgrade_mrr_delta,
        upgrade_opportunities.overage_calls_at_pace,
        upgrade_opportunities.overage_cost_at_pace,
        upgrade_opportunities.fits_next_plan,
        upgrade_opportunities.upgrade_net_cost_at_pace
    from quota_utilization
    inner join as_of
        on quota_utilization.usage_date = as_of.as_of_date
    left join upgrade_opportunities
        on
            quota_utilization.organization_id = upgrade_opportunities.organization_id
            and quota_utilization.usage_date = upgrade_opportunities.as_of_date

),

reach_thresholds as (

    select
        quota_on_as_of_date.*,
        thresholds.threshold
    from quota_on_as_of_date
    inner join thresholds
        on quota_on_as_of_date.pct_of_cap >= thresholds.threshold

),

quota_alerts as (

    select
        concat_ws(
            ':', 'quota_threshold', organization_id, strftime(billing_month, '%Y-%m'), threshold
        ) as alert_key,
        'quota_threshold' as alert_type,
        organization_id,
        threshold,
        usage_date as as_of_date,
        json_object(
            'billing_month', billing_month,
            'plan_id', plan_id,
            'monthly_call_limit', monthly_call_limit,
            'used_today', used_today,
            'used_mtd', used_mtd,
            'pct_of_cap', pct_of_cap,
            'projected_eom', projected_eom,
            'days_to_cap', days_to_cap,
            'will_exceed', will_exceed,
            'days_left_in_month', days_left_in_month,
            'quota_resets_on', quota_resets_on,
            'next_plan_id', next_plan_id,
            'next_plan_call_limit', next_plan_call_limit,
            'plan_monthly_price', plan_monthly_price,
            'next_plan_monthly_price', next_plan_monthly_price,
            'upgrade_mrr_delta', upgrade_mrr_delta,
            'overage_calls_at_pace', overage_calls_at_pace,
            'overage_cost_at_pace', overage_cost_at_pace,
            'fits_next_plan', fits_next_plan,
            'upgrade_net_cost_at_pace', upgrade_net_cost_at_pace
        ) as detail
    from reach_thresholds

),

{# Churn: the contract's trend rules, evaluated on every day of every organization. #}
daily_calls as (

    select
        customer_daily_usage.organization_id,
        customer_daily_usage.usage_date,
        customer_daily_usage.calls
    from customer_daily_usage
    inner join as_of
        on customer_daily_usage.usage_date <= as_of.as_of_date

),

first_call_dates as (

    select
        organization_id,
        min(usage_date) as first_call_date
    from daily_calls
    where calls > 0
    group by all

),

organization_days as (

    select
        first_call_dates.organization_id,
        first_call_dates.first_call_date,
        cast(spine.day as date) as usage_date
    from first_call_dates
    cross join as_of
    {{ days_through('first_call_dates.first_call_date', 'as_of.as_of_date') }}

),

sum_daily_windows as (

    select
        organization_days.organization_id,
        organization_days.first_call_date,
        organization_days.usage_date,
        cast(coalesce(sum(daily_calls.calls) over last_7_days, 0) as bigint) as calls_7d,
        cast(coalesce(sum(daily_calls.calls) over prior_7_days, 0) as bigint) as calls_prior_7d
    from organization_days
    left join daily_calls
        on
            organization_days.organization_id = daily_calls.organization_id
            and organization_days.usage_date = daily_calls.usage_date
    window
        last_7_days as (
            partition by organization_days.organization_id
            order by organization_days.usage_date
            rows between 6 preceding and current row
        ),
        prior_7_days as (
            partition by organization_days.organization_id
            order by organization_days.usage_date
            rows between 13 preceding and 7 preceding
        )

),

classify_daily_trends as (

    select
        *,
        case
            when calls_7d = 0 then 'dormant'
            when usage_date - first_call_date < 14 then 'new'
            -- calls_7d < 0.5 * calls_prior_7d and calls_7d >= 1.3 * calls_prior_7d, in integers
            when calls_prior_7d >= 100 and 2 * calls_7d < calls_prior_7d then 'declining'
            when 10 * calls_7d >= 13 * calls_prior_7d then 'growing'
            else 'steady'
        end as trend
    from sum_daily_windows

),

{# The episode in force on the as-of date starts the day after the last day, before the as-of
    date, on which the organization was not at risk. #}
find_episode_starts as (

    select
        classify_daily_trends.organization_id,
        least(
            any_value(as_of.as_of_date),
            coalesce(
                max(classify_daily_trends.usage_date) filter (
                    where
                    classify_daily_trends.trend not in ('declining', 'dormant')
                    and classify_daily_trends.usage_date < as_of.as_of_date
                ) + 1,
                min(classify_daily_trends.usage_date)
            )
        ) as episode_start_date
    from classify_daily_trends
    cross join as_of
    group by all

),

{# Which endpoints (route templates) and keys lost the most calls, last 7 days against the 7
    before them. #}
requests_last_14_days as (

    select
        api_requests.organization_id,
        api_requests.route,
        api_requests.api_key_id,
        api_requests.request_date > as_of.as_of_date - 7 as is_last_7_days
    from api_requests
    cross join as_of
    where api_requests.request_date between as_of.as_of_date - 13 and as_of.as_of_date

),

compare_routes as (

    select
        organization_id,
        route,
        count(*) filter (where is_last_7_days) as calls_7d,
        count(*) filter (where not is_last_7_days) as calls_prior_7d
    from requests_last_14_days
    group by all

),

rank_route_drops as (

    select
        *,
        row_number() over (
            partition by organization_id
            order by calls_prior_7d - calls_7d desc, route
        ) as drop_rank
    from compare_routes
    where calls_7d < calls_prior_7d

),

collect_route_drops as (

    select
        organization_id,
        list(
            {
                'route': route,
                'calls_prior_7d': calls_prior_7d,
                'calls_7d': calls_7d,
                'change': calls_7d - calls_prior_7d
            }
            order by drop_rank
        ) as top_endpoint_drops
    from rank_route_drops
    where drop_rank <= 3
    group by all

),

compare_keys as (

    select
        organization_id,
        api_key_id,
        count(*) filter (where is_last_7_days) as calls_7d,
        count(*) filter (where not is_last_7_days) as calls_prior_7d
    from requests_last_14_days
    where api_key_id is not null
    group by all

),

rank_key_drops as (

    select
        *,
        row_number() over (
            partition by organization_id
            order by calls_prior_7d - calls_7d desc, api_key_id
        ) as drop_rank
    from compare_keys
    where calls_7d < calls_prior_7d

),

collect_key_drops as (

    select
        organization_id,
        list(
            {
                'api_key_id': api_key_id,
                'calls_prior_7d': calls_prior_7d,
                'calls_7d': calls_7d,
                'change': calls_7d - calls_prior_7d
            }
            order by drop_rank
        ) as top_key_drops
    from rank_key_drops
    where drop_rank <= 3
    group by all

),

organizations_at_risk as (

    select
        customer_usage_summary.organization_id,
        customer_usage_summary.plan_id,
        customer_usage_summary.trend,
        customer_usage_summary.calls_7d,
        customer_usage_summary.calls_prior_7d,
        customer_usage_summary.usage_change_7d_pct,
        customer_usage_summary.calls_30d,
        customer_usage_summary.active_days_30d,
        customer_usage_summary.days_since_last_call,
        customer_usage_summary.last_call_at,
        as_of.as_of_date,
        coalesce(find_episode_starts.episode_start_date, as_of.as_of_date) as episode_start_date,
        coalesce(collect_route_drops.top_endpoint_drops, []) as top_endpoint_drops,
        coalesce(collect_key_drops.top_key_drops, []) as top_key_drops,
        collect_route_drops.top_endpoint_drops[1].route as top_dropped_route,
        collect_route_drops.top_endpoint_drops[1].calls_prior_7d as top_dropped_route_prior,
        collect_route_drops.top_endpoint_drops[1].calls_7d as top_dropped_route_7d
    from customer_usage_summary
    cross join as_of
    left join find_episode_starts
        on customer_usage_summary.organization_id = find_episode_starts.organization_id
    left join collect_route_drops
        on customer_usage_summary.organization_id = collect_route_drops.organization_id
    left join collect_key_drops
        on customer_usage_summary.organization_id = collect_key_drops.organization_id
    where customer_usage_summary.trend in ('declining', 'dormant')

),

draft_churn_notes as (

    select
        *,
        case
            when trend = 'dormant'
                then format(
                    '{} has made no API call for {} days (last call {})',
                    organization_id, days_since_last_call, strftime(last_call_at, '%Y-%m-%d')
                )
            else format(
                '{}: calls fell {}% in 7 days ({} -> {})',
                organization_id,
                coalesce(format('{:.1f}', abs(usage_change_7d_pct)), '?'),
                format('{:,}', calls_prior_7d),
                format('{:,}', calls_7d)
            )
        end as headline,
        case
            when trend = 'dormant'
                then format('We have not seen API calls from you for {} days', days_since_last_call)
            else 'Your API usage dropped this week: can we help?'
        end as note_subject,
        case
            when trend = 'dormant'
                then format(
                    'Hi {} team, we have not seen an API call from you since {} ({} days ago).'
                    || ' Is anything getting in the way of your integration? We would be glad'
                    || ' to help.',
                    organization_id, strftime(last_call_at, '%B %-d'), days_since_last_call
                )
            else format(
                'Hi {} team, your API calls went from {} in the previous 7 days to {} in the'
                || ' last 7{}. Is anything getting in the way? We would be glad to help.',
                organization_id,
                format('{:,}', calls_prior_7d),
                format('{:,}', calls_7d),
                coalesce(
                    format(
                        ', most of the drop on {} ({} -> {})',
                        top_dropped_route,
                        format('{:,}', top_dropped_route_prior),
                        format('{:,}', top_dropped_route_7d)
                    ),
                    ''
                )
            )
        end as note_body
    from organizations_at_risk

),

churn_alerts as (

    select
        concat_ws(
            ':', 'churn_risk', organization_id, strftime(episode_start_date, '%Y-%m-%d')
        ) as alert_key,
        'churn_risk' as alert_type,
        organization_id,
        cast(null as integer) as threshold,
        as_of_date,
        json_object(
            'headline', headline,
            'trend', trend,
            'episode_start_date', episode_start_date,
            'plan_id', plan_id,
            'calls_7d', calls_7d,
            'calls_prior_7d', calls_prior_7d,
            'usage_change_7d_pct', usage_change_7d_pct,
            'calls_30d', calls_30d,
            'active_days_30d', active_days_30d,
            'days_since_last_call', days_since_last_call,
            'last_call_at', last_call_at,
            'top_endpoint_drops', top_endpoint_drops,
            'top_key_drops', top_key_drops,
            'note_subject', note_subject,
            'note_body', note_body
        ) as detail
    from draft_churn_notes

),

union_alerts as (

    select
        alert_key,
        alert_type,
        organization_id,
        cast(threshold as integer) as threshold,
        as_of_date,
        detail
    from quota_alerts
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        threshold,
        as_of_date,
        detail
    from churn_alerts
    union all
    select
        alert_key,
        alert_type,
        organization_id,
        threshold,
        as_of_date,
        detail
    from reliability_alerts

)

select * from union_alerts
