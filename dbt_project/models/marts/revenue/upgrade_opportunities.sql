{#- One row per organization with a quota on the as-of date whose threshold_band >= 80 or that
    will exceed its quota at the month's pace, priced with the plan catalogue (docs/contract.md
    section 2b). No catalogue (PLANS_FILE unset): no rows. A plan missing from the catalogue:
    the row stays, its price columns are null. -#}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

quota_utilization as (

    select * from {{ ref('quota_utilization') }}

),

plan_catalogue as (

    select * from {{ ref('stg_plan_catalogue') }}

),

find_candidates as (

    select quota_utilization.*
    from quota_utilization
    inner join as_of
        on quota_utilization.usage_date = as_of.as_of_date
    where
        (quota_utilization.threshold_band >= 80 or quota_utilization.will_exceed)
        and exists (select 1 from plan_catalogue)

),

join_plans as (

    select
        find_candidates.organization_id,
        find_candidates.usage_date as as_of_date,
        find_candidates.plan_id,
        find_candidates.monthly_call_limit,
        find_candidates.used_mtd,
        find_candidates.pct_of_cap,
        find_candidates.projected_eom,
        find_candidates.days_to_cap,
        find_candidates.threshold_band,
        find_candidates.will_exceed,
        current_plan.plan_id is not null as is_plan_in_catalogue,
        current_plan.monthly_price as plan_monthly_price,
        current_plan.overage_price_per_1k_calls,
        next_plan.plan_id as next_plan_id,
        next_plan.monthly_call_limit as next_plan_call_limit,
        next_plan.monthly_price as next_plan_monthly_price,
        next_plan.overage_price_per_1k_calls as next_plan_overage_price_per_1k_calls
    from find_candidates
    left join plan_catalogue as current_plan
        on find_candidates.plan_id = current_plan.plan_id
    left join plan_catalogue as next_plan
        on current_plan.next_plan_id = next_plan.plan_id

),

price_at_pace as (

    select
        *,
        next_plan_monthly_price - plan_monthly_price as upgrade_mrr_delta,
        greatest(projected_eom - monthly_call_limit, 0) as overage_calls_at_pace,
        greatest(projected_eom - monthly_call_limit, 0) / 1000
        * overage_price_per_1k_calls as overage_cost_at_pace,
        projected_eom <= next_plan_call_limit as fits_next_plan,
        {# What the month would cost at this pace on either plan: its price plus its overage. #}
        plan_monthly_price
        + greatest(projected_eom - monthly_call_limit, 0) / 1000
        * overage_price_per_1k_calls as current_plan_cost_at_pace,
        next_plan_monthly_price
        + greatest(projected_eom - next_plan_call_limit, 0) / 1000
        * next_plan_overage_price_per_1k_calls as next_plan_cost_at_pace
    from join_plans

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
        cast(overage_calls_at_pace as bigint) as overage_calls_at_pace,
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
        next_plan_cost_at_pace - current_plan_cost_at_pace as upgrade_net_cost_at_pace
    from price_at_pace

)

select * from final
