{#- One row per cohort week, plan and week offset (docs/contract.md cohort_retention). An
    organization signs up at its first key_issued, with the plan it had then; it is active in a
    week when it made a successful call (status < 400) in that ISO week. Weeks run from the
    cohort week to the as-of week; activity after the as-of date is not seen. Activity comes from
    the daily facts (int_customer_daily_calls): the cost follows organizations and weeks, not calls. -#}

with

key_issuances as (

    select * from {{ ref('int_key_issuances') }}

),

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

signups as (

    select
        organization_id,
        plan_id,
        cohort_week
    from (
        select
            *,
            cast(date_trunc('week', key_issued_at) as date) as cohort_week,
            row_number() over (
                partition by organization_id
                order by key_issued_at, event_id
            ) as issuance_number
        from key_issuances
    ) as numbered_issuances
    where issuance_number = 1

),

size_cohorts as (

    select
        cohort_week,
        plan_id,
        count(*) as cohort_size
    from signups
    group by all

),

spread_week_offsets as (

    select
        size_cohorts.cohort_week,
        size_cohorts.plan_id,
        cast(offsets.weeks_since_signup as integer) as weeks_since_signup,
        size_cohorts.cohort_size,
        as_of.as_of_date
    from size_cohorts
    cross join as_of
    {{ integers_through(
        '0',
        integer_divide(
            dbt.datediff('size_cohorts.cohort_week', "cast(date_trunc('week', as_of.as_of_date) as date)", 'day'),
            '7'
        ),
        'offsets',
        'weeks_since_signup'
    ) }}

),

{# From the daily facts (days up to the as-of date), never from all the calls. #}
find_active_weeks as (

    select distinct
        organization_id,
        cast(date_trunc('week', usage_date) as date) as active_week
    from daily_calls
    where successful_calls > 0

),

count_active_customers as (

    select
        signups.cohort_week,
        signups.plan_id,
        cast({{ integer_divide(dbt.datediff('signups.cohort_week', 'find_active_weeks.active_week', 'day'), '7') }} as integer)
            as weeks_since_signup,
        count(*) as active_customers
    from signups
    inner join find_active_weeks
        on
            signups.organization_id = find_active_weeks.organization_id
            and signups.cohort_week <= find_active_weeks.active_week
    group by all

),

compute_retention as (

    select
        spread_week_offsets.cohort_week,
        spread_week_offsets.plan_id,
        spread_week_offsets.weeks_since_signup,
        spread_week_offsets.cohort_size,
        coalesce(count_active_customers.active_customers, 0) as active_customers,
        coalesce(count_active_customers.active_customers, 0)
        / spread_week_offsets.cohort_size as retention_rate,
        spread_week_offsets.cohort_week + 7 * spread_week_offsets.weeks_since_signup + 6
        <= spread_week_offsets.as_of_date as is_complete_week
    from spread_week_offsets
    left join count_active_customers
        on
            spread_week_offsets.cohort_week = count_active_customers.cohort_week
            and spread_week_offsets.plan_id is not distinct from count_active_customers.plan_id
            and spread_week_offsets.weeks_since_signup = count_active_customers.weeks_since_signup

)

select * from compute_retention
