{#- One row per cohort week and plan, plus one per cohort week over every plan
    (`is_all_plans`): keys issued, keys that reached each strict funnel step (as furthest_step
    in onboarding_funnel) and the median hours to a first success. The one home of the funnel
    counts: onboarding_funnel_summary keeps the per-plan rows, onboarding_funnel_weekly the
    all-plans rows (a median over all of a week's keys, since medians do not add up). -#}
with

onboarding_funnel as (

    select * from {{ ref('onboarding_funnel') }}

),

count_steps as (

    select
        cohort_week,
        plan_id,
        grouping(plan_id) = 1 as is_all_plans,
        count(*) as keys_issued,
        count(*) filter (
            where furthest_step in ('first_success', 'hundred_calls', 'error_free_day')
        ) as reached_first_success,
        count(*) filter (
            where furthest_step in ('hundred_calls', 'error_free_day')
        ) as reached_hundred_calls,
        count(*) filter (where furthest_step = 'error_free_day') as reached_error_free_day,
        percentile_cont(0.5) within group (order by hours_to_first_success)
            as median_hours_to_first_success
    from onboarding_funnel
    group by grouping sets ((cohort_week, plan_id), (cohort_week))

),

compute_rates as (

    select
        cohort_week,
        plan_id,
        is_all_plans,
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
