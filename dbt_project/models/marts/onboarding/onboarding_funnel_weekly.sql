{#- One row per cohort week, over every plan: the funnel of onboarding_funnel_summary for the
    whole week, with its own median (int_onboarding_funnel_counts). What `apiwh funnel` shows. -#}

with

funnel_counts as (

    select * from {{ ref('int_onboarding_funnel_counts') }}

),

keep_week_rows as (

    select
        cohort_week,
        keys_issued,
        reached_first_success,
        reached_hundred_calls,
        reached_error_free_day,
        first_success_rate,
        hundred_calls_rate,
        error_free_day_rate,
        median_hours_to_first_success
    from funnel_counts
    where is_all_plans

)

select * from keep_week_rows
