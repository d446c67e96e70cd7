{#- One row per organization with a quota on the as-of date whose threshold_band >= 80 or that
    will exceed its quota at the month's pace, priced with the plan catalogue (docs/contract.md
    section 2b). The next plan, the overage at pace and what the month costs on either plan are
    quota_outlook's (section 2c), so the two marts never disagree; this adds the catalogue's
    prices beside them. No catalogue (PLANS_FILE unset): no rows. A plan missing from the
    catalogue: the row stays, its price columns are null. -#}

with

quota_outlook as (

    select * from {{ ref('quota_outlook') }}

),

plan_upgrade_paths as (

    select * from {{ ref('int_plan_upgrade_paths') }}

),

find_candidates as (

    select quota_outlook.*
    from quota_outlook
    where
        (quota_outlook.threshold_band >= 80 or quota_outlook.will_exceed)
        and exists (select 1 from plan_upgrade_paths)

),

join_plans as (

    select
        find_candidates.*,
        plan_upgrade_paths.monthly_price as plan_monthly_price,
        plan_upgrade_paths.overage_price_per_1k_calls,
        plan_upgrade_paths.next_plan_monthly_price
    from find_candidates
    left join plan_upgrade_paths
        on find_candidates.plan_id = plan_upgrade_paths.plan_id

),

final as (

    select
        organization_id,
        plan_id,
        monthly_call_limit,
        used_mtd,
        pct_of_cap,
        projected_eom,
        days_to_cap,
        next_plan_id,
        next_plan_call_limit,
        upgrade_mrr_delta,
        overage_calls_at_pace,
        overage_cost_at_pace,
        fits_next_plan,
        as_of_date,
        threshold_band,
        will_exceed,
        is_plan_in_catalogue,
        plan_monthly_price,
        overage_price_per_1k_calls,
        next_plan_monthly_price,
        current_plan_cost_at_pace,
        next_plan_cost_at_pace,
        upgrade_net_cost_at_pace
    from join_plans

)

select * from final
