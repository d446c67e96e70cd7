{#- One row per organization with a quota on the as-of date: that day's row of quota_utilization
    and the verdicts every face reads from it (docs/contract.md section 2c), decided here once:
    the outlook to the cap, the day the cap is reached or the quota resets, the action, and the
    next plan with the month's overage at this pace and what upgrading would add to the month's
    bill at this pace (null without PLANS_FILE); upgrade_opportunities reads that money here. -#}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

quota_utilization as (

    select * from {{ ref('quota_utilization') }}

),

plan_upgrade_paths as (

    select * from {{ ref('int_plan_upgrade_paths') }}

),

keep_as_of_date as (

    select quota_utilization.*
    from quota_utilization
    inner join as_of
        on quota_utilization.usage_date = as_of.as_of_date

),

judge_outlook as (

    -- On the month's last day projected_eom = used_mtd, so reaches_cap cannot follow there.
    select
        *,
        case
            when used_mtd >= monthly_call_limit then 'cap_reached'
            when will_exceed then 'reaches_cap'
            else 'resets_first'
        end as outlook
    from keep_as_of_date

),

decide_action as (

    select
        *,
        case
            when outlook = 'reaches_cap'
                then cast({{ dbt.dateadd('day', 'days_to_cap', 'usage_date') }} as date)
        end as cap_date,
        cast({{ dbt.dateadd('month', 1, 'billing_month') }} as date) as resets_on,
        case
            when outlook = 'cap_reached' or (outlook = 'reaches_cap' and days_to_cap <= 1) then 'CRITICAL'
            when outlook = 'reaches_cap' or pct_of_cap >= 80 then 'UPSELL NOW'
            when pct_of_cap >= 60 then 'warm'
            else 'ok'
        end as action
    from judge_outlook

),

price_at_pace as (

    select
        decide_action.*,
        plan_upgrade_paths.plan_id is not null as is_plan_in_catalogue,
        plan_upgrade_paths.next_plan_id,
        plan_upgrade_paths.next_plan_call_limit,
        plan_upgrade_paths.upgrade_mrr_delta,
        plan_upgrade_paths.monthly_price as plan_monthly_price,
        plan_upgrade_paths.next_plan_monthly_price,
        plan_upgrade_paths.next_plan_overage_price_per_1k_calls,
        greatest(decide_action.projected_eom - decide_action.monthly_call_limit, 0) as overage_calls_at_pace,
        greatest(decide_action.projected_eom - decide_action.monthly_call_limit, 0) / 1000
        * plan_upgrade_paths.overage_price_per_1k_calls as overage_cost_at_pace
    from decide_action
    left join plan_upgrade_paths
        on decide_action.plan_id = plan_upgrade_paths.plan_id

),

{# What the month would cost at this pace on either plan: its price plus its overage. #}
price_upgrade_at_pace as (

    select
        *,
        projected_eom <= next_plan_call_limit as fits_next_plan,
        plan_monthly_price + overage_cost_at_pace as current_plan_cost_at_pace,
        next_plan_monthly_price
        + greatest(projected_eom - next_plan_call_limit, 0) / 1000
        * next_plan_overage_price_per_1k_calls as next_plan_cost_at_pace
    from price_at_pace

),

final as (

    select
        organization_id,
        plan_id,
        billing_month,
        monthly_call_limit,
        used_mtd,
        pct_of_cap,
        projected_eom,
        days_to_cap,
        will_exceed,
        outlook,
        cap_date,
        resets_on,
        action,
        next_plan_id,
        upgrade_mrr_delta,
        overage_cost_at_pace,
        usage_date as as_of_date,
        threshold_band,
        next_plan_call_limit,
        cast(overage_calls_at_pace as bigint) as overage_calls_at_pace,
        is_plan_in_catalogue,
        fits_next_plan,
        current_plan_cost_at_pace,
        next_plan_cost_at_pace,
        next_plan_cost_at_pace - current_plan_cost_at_pace as upgrade_net_cost_at_pace
    from price_upgrade_at_pace

)

select * from final
