{#- One row per issued API key: its onboarding milestones (docs/contract.md onboarding_funnel).
    Only calls made with the key at or after its (first) issuance, up to the as-of date, count.
    Whole days after the issuance day come from the daily facts (int_key_daily_calls); only the
    issuance day (calls before key_issued_at do not count) and the day of the 100th call (which
    call it was) read that day's calls of that key, from int_key_onboarding_calls, which keeps
    exactly those at day grain (so they outlive raw retention). Never all the calls. -#}

with

key_issuances as (

    select * from {{ ref('int_key_issuances') }}

),

key_daily_calls as (

    select * from {{ ref('int_key_daily_calls') }}

),

api_requests as (

    select * from {{ ref('int_key_onboarding_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

first_issuances as (

    select *
    from (
        select
            *,
            cast(key_issued_at as date) as key_issued_day,
            row_number() over (
                partition by api_key_id
                order by key_issued_at, event_id
            ) as issuance_number
        from key_issuances
    ) as numbered_issuances
    where issuance_number = 1

),

{# The calls that count on the issuance day: at or after key_issued_at. #}
summarize_issuance_days as (

    select
        api_requests.api_key_id,
        api_requests.request_date as usage_date,
        count(*) as calls,
        min(api_requests.requested_at) as first_call_at,
        min(api_requests.requested_at) filter (where api_requests.is_2xx) as first_success_at,
        bool_or(api_requests.is_client_error or api_requests.is_server_error) as has_errors
    from api_requests
    inner join first_issuances
        on
            api_requests.api_key_id = first_issuances.api_key_id
            and api_requests.request_date = first_issuances.key_issued_day
            and api_requests.requested_at >= first_issuances.key_issued_at
    cross join as_of
    where api_requests.request_date <= as_of.as_of_date
    group by all

),

summarize_later_days as (

    select
        key_daily_calls.api_key_id,
        key_daily_calls.usage_date,
        key_daily_calls.calls,
        key_daily_calls.first_call_at,
        key_daily_calls.first_success_at,
        key_daily_calls.failed_calls > 0 as has_errors
    from key_daily_calls
    inner join first_issuances
        on
            key_daily_calls.api_key_id = first_issuances.api_key_id
            and key_daily_calls.usage_date > first_issuances.key_issued_day

),

summarize_key_days as (

    select * from summarize_issuance_days
    union all
    select * from summarize_later_days

),

accumulate_calls as (

    select
        *,
        sum(calls) over (
            partition by api_key_id
            order by usage_date
            rows between unbounded preceding and current row
        ) as calls_through_day
    from summarize_key_days

),

{# The day the key's calls reach 100, and which of that day's calls is the 100th. #}
find_hundredth_days as (

    select
        api_key_id,
        usage_date,
        100 - (calls_through_day - calls) as call_number_in_day
    from accumulate_calls
    where calls_through_day >= 100 and calls_through_day - calls < 100

),

number_hundredth_day_calls as (

    select
        find_hundredth_days.api_key_id,
        find_hundredth_days.call_number_in_day,
        api_requests.requested_at,
        row_number() over (
            partition by api_requests.api_key_id
            order by api_requests.requested_at, api_requests.event_id
        ) as call_number
    from find_hundredth_days
    inner join first_issuances
        on find_hundredth_days.api_key_id = first_issuances.api_key_id
    inner join api_requests
        on
            find_hundredth_days.api_key_id = api_requests.api_key_id
            and find_hundredth_days.usage_date = api_requests.request_date
            and first_issuances.key_issued_at <= api_requests.requested_at

),

summarize_keys as (

    select
        summarize_key_days.api_key_id,
        min(summarize_key_days.first_call_at) as first_call_at,
        min(summarize_key_days.first_success_at) as first_success_at,
        min(number_hundredth_day_calls.requested_at) as hundredth_call_at,
        min(summarize_key_days.usage_date) filter (
            where not summarize_key_days.has_errors
        ) as first_error_free_day
    from summarize_key_days
    left join number_hundredth_day_calls
        on
            summarize_key_days.api_key_id = number_hundredth_day_calls.api_key_id
            and number_hundredth_day_calls.call_number = number_hundredth_day_calls.call_number_in_day
    group by all

),

classify_keys as (

    select
        first_issuances.api_key_id,
        first_issuances.organization_id,
        first_issuances.developer_id,
        first_issuances.plan_id,
        first_issuances.key_issued_at,
        cast(date_trunc('week', first_issuances.key_issued_at) as date) as cohort_week,
        summarize_keys.first_call_at,
        summarize_keys.first_success_at,
        summarize_keys.hundredth_call_at,
        summarize_keys.first_error_free_day,
        ({{ epoch_milliseconds('summarize_keys.first_success_at') }} - {{ epoch_milliseconds('first_issuances.key_issued_at') }})
        / cast(3600000 as double) as hours_to_first_success,
        case
            when summarize_keys.first_success_at is null then 'key_issued'
            when summarize_keys.hundredth_call_at is null then 'first_success'
            when summarize_keys.first_error_free_day is null then 'hundred_calls'
            else 'error_free_day'
        end as furthest_step
    from first_issuances
    left join summarize_keys
        on first_issuances.api_key_id = summarize_keys.api_key_id

),

{# When the key reached its furthest step: the latest of the milestones up to it (the funnel is
   strict, in any time order), and how long it has stayed there. #}
date_steps as (

    select
        classify_keys.*,
        case classify_keys.furthest_step
            when 'key_issued' then classify_keys.key_issued_at
            when 'first_success' then classify_keys.first_success_at
            when 'hundred_calls'
                then greatest(classify_keys.first_success_at, classify_keys.hundredth_call_at)
            else greatest(
                classify_keys.first_success_at,
                classify_keys.hundredth_call_at,
                cast(classify_keys.first_error_free_day as timestamp)
            )
        end as step_reached_at
    from classify_keys

),

final as (

    select
        date_steps.*,
        cast(
            {{ dbt.datediff('cast(date_steps.step_reached_at as date)', 'as_of.as_of_date', 'day') }}
            as integer
        ) as days_at_step,
        -- Stuck: still onboarding (issued less than onboarding_window_days ago), not through
        -- the funnel, and no further step for onboarding_stuck_days.
        coalesce(
            date_steps.furthest_step <> 'error_free_day'
            and {{ dbt.datediff('cast(date_steps.step_reached_at as date)', 'as_of.as_of_date', 'day') }}
            >= {{ var('onboarding_stuck_days', 7) }}
            and {{ dbt.datediff('cast(date_steps.key_issued_at as date)', 'as_of.as_of_date', 'day') }}
            < {{ var('onboarding_window_days', 30) }},
            false
        ) as is_stuck
    from date_steps
    cross join as_of

)

select * from final
