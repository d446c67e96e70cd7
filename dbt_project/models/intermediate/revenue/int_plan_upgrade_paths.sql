{#- One row per plan of the plan catalogue (PLANS_FILE, docs/contract.md section 2b): its prices,
    its next plan's limit and prices, and what moving up adds to the monthly revenue. The one
    home of the next-plan lookup, read by quota_outlook and upgrade_opportunities. No catalogue:
    no rows. The top plan: next plan columns null. -#}

with

plan_catalogue as (

    select * from {{ ref('stg_plan_catalogue') }}

),

join_next_plans as (

    select
        current_plan.plan_id,
        current_plan.monthly_price,
        current_plan.monthly_call_limit,
        current_plan.overage_price_per_1k_calls,
        next_plan.plan_id as next_plan_id,
        next_plan.monthly_call_limit as next_plan_call_limit,
        next_plan.monthly_price as next_plan_monthly_price,
        next_plan.overage_price_per_1k_calls as next_plan_overage_price_per_1k_calls,
        next_plan.monthly_price - current_plan.monthly_price as upgrade_mrr_delta
    from plan_catalogue as current_plan
    left join plan_catalogue as next_plan
        on current_plan.next_plan_id = next_plan.plan_id

)

select * from join_next_plans
