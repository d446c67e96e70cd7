{#- One row per cohort week and plan: how many keys were issued and how many reached each
    funnel step (strict, as furthest_step in onboarding_funnel), counted in
    int_onboarding_funnel_counts. -#}

with

funnel_counts as (

    select * from {{ ref('int_onboarding_funnel_counts') }}

),

keep_plan_rows as (

    select
        cohort_week,
        plan_id,
        keys_issued,
        reached_first_success,
        reached_hundred_calls,
        reached_error_free_day,
        first_success_rate,
        hundred_calls_rate,
        error_free_day_rate,
        median_hours_to_first_success
    from funnel_counts
    where not is_all_plans

)

select * from keep_plan_rows
