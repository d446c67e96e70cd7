{#- One row per organization and quota threshold (80, 95, 100) that its pct_of_cap has reached on
    the as-of date (docs/contract.md "Alerts" `quota_threshold`):
    quota_threshold:<org>:<YYYY-MM>:<threshold>. A jump records every threshold passed; the
    billing month in the key re-arms them each month, and a limit other than the month's first
    (an upgrade or a quota bump) re-arms them against it: :limit-<limit> ends those keys, so the
    keys of the month's first limit stay as they were before this rule. detail: the quota figures, the verdict of
    marts.quota_outlook (outlook, action, cap_date, resets_on, the next plan and the overage at
    pace: decided there once, contract 2c) and, when the plan catalogue prices the plan, the
    upgrade figures. Figures only: the words are drafted in orchestration/alerts/quota_notes.py. -#}
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

quota_outlook as (

    select * from {{ ref('quota_outlook') }}

),

month_first_days as (

    -- The first day of the as-of billing month with a quota: its limit is the month's first.
    select
        quota_utilization.organization_id,
        min(quota_utilization.usage_date) as first_quota_date
    from quota_utilization
    inner join as_of
        on
            quota_utilization.usage_date <= as_of.as_of_date
            and quota_utilization.billing_month = cast(date_trunc('month', as_of.as_of_date) as date)
    group by quota_utilization.organization_id

),

month_first_limits as (

    select
        quota_utilization.organization_id,
        quota_utilization.monthly_call_limit as first_monthly_call_limit
    from quota_utilization
    inner join month_first_days
        on
            quota_utilization.organization_id = month_first_days.organization_id
            and quota_utilization.usage_date = month_first_days.first_quota_date

),

list_thresholds as (

    select 80 as threshold
    union all
    select 95 as threshold
    union all
    select 100 as threshold

),

reach_thresholds as (

    select
        quota_utilization.*,
        cast(quota_utilization.pct_of_cap as double) as pct_of_cap_reached,
        last_day(quota_utilization.usage_date) as last_day_of_month,
        list_thresholds.threshold
    from quota_utilization
    inner join as_of
        on quota_utilization.usage_date = as_of.as_of_date
    inner join list_thresholds
        on quota_utilization.pct_of_cap >= list_thresholds.threshold

),

final as (

    select
        concat_ws(
            ':',
            'quota_threshold',
            reach_thresholds.organization_id,
            substr(cast(reach_thresholds.billing_month as string), 1, 7),
            cast(reach_thresholds.threshold as string),
            -- null (left out) for the month's first limit
            case
                when reach_thresholds.monthly_call_limit <> month_first_limits.first_monthly_call_limit
                    then concat('limit-', cast(reach_thresholds.monthly_call_limit as string))
            end
        ) as alert_key,
        'quota_threshold' as alert_type,
        reach_thresholds.organization_id,
        cast(reach_thresholds.threshold as integer) as threshold,
        reach_thresholds.usage_date as as_of_date,
        {{ json_figures([
            ('billing_month', 'reach_thresholds.billing_month'),
            ('plan_id', 'reach_thresholds.plan_id'),
            ('monthly_call_limit', 'reach_thresholds.monthly_call_limit'),
            ('used_today', 'reach_thresholds.used_today'),
            ('used_mtd', 'reach_thresholds.used_mtd'),
            ('pct_of_cap', 'reach_thresholds.pct_of_cap_reached'),
            ('projected_eom', 'reach_thresholds.projected_eom'),
            ('days_to_cap', 'reach_thresholds.days_to_cap'),
            ('will_exceed', 'reach_thresholds.will_exceed'),
            ('days_left_in_month', dbt.datediff('reach_thresholds.usage_date', 'reach_thresholds.last_day_of_month', 'day')),
            ('quota_resets_on', 'cast(' ~ dbt.dateadd('day', 1, 'reach_thresholds.last_day_of_month') ~ ' as date)'),
            ('outlook', 'quota_outlook.outlook'),
            ('action', 'quota_outlook.action'),
            ('cap_date', 'quota_outlook.cap_date'),
            ('resets_on', 'quota_outlook.resets_on'),
            ('is_plan_in_catalogue', 'quota_outlook.is_plan_in_catalogue'),
            ('next_plan_id', 'quota_outlook.next_plan_id'),
            ('next_plan_call_limit', 'upgrade_opportunities.next_plan_call_limit'),
            ('plan_monthly_price', 'upgrade_opportunities.plan_monthly_price'),
            ('next_plan_monthly_price', 'upgrade_opportunities.next_plan_monthly_price'),
            ('upgrade_mrr_delta', 'quota_outlook.upgrade_mrr_delta'),
            ('overage_calls_at_pace', 'upgrade_opportunities.overage_calls_at_pace'),
            ('overage_cost_at_pace', 'quota_outlook.overage_cost_at_pace'),
            ('fits_next_plan', 'upgrade_opportunities.fits_next_plan'),
            ('upgrade_net_cost_at_pace', 'upgrade_opportunities.upgrade_net_cost_at_pace'),
        ]) }} as detail
    from reach_thresholds
    left join month_first_limits
        on reach_thresholds.organization_id = month_first_limits.organization_id
    left join quota_outlook
        on
            reach_thresholds.organization_id = quota_outlook.organization_id
            and reach_thresholds.usage_date = quota_outlook.as_of_date
    left join upgrade_opportunities
        on
            reach_thresholds.organization_id = upgrade_opportunities.organization_id
            and reach_thresholds.usage_date = upgrade_opportunities.as_of_date

)

select * from final
