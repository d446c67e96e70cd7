{#- One row per cohort week and plan: how many keys were issued and how many reached each
    funnel step (strict, as furthest_step in onboarding_funnel). -#}

with

onboarding_funnel as (

    select * from {{ ref('onboarding_funnel') }}

),

count_steps as (

    select
        cohort_week,
        plan_id,
        count(*) as keys_issued,
        count(*) filter (
            where furthest_step in ('first_success', 'hundred_calls', 'error_free_day')
        ) as reached_first_success,
        count(*) filter (
            where furthest_step in ('hundred_calls', 'error_free_day')
        ) as reached_hundred_calls,
        count(*) filter (where furthest_step = 'error_free_day') as reached_error_free_day,
        quantile_cont(hours_to_first_success, 0.5) as median_hours_to_first_success
    from onboarding_funnel
    group by all

),

compute_rates as (

    select
        cohort_week,
        plan_id,
        keys_issued,
        reached_first_success,
        reached_hundred_calls,
        reached_error_free_day,
        reached_first_success / keys_issued as first_success_rate,
        reached_hundred_calls / keys_issued as hundred_calls_rate,
        reached_error_free_day / keys_issued as error_free_day_rate,
        median_hours_to_first_success
    from count_steps

)

select * from compute_rates
