{#- One row per issued API key: its onboarding milestones (docs/contract.md onboarding_funnel).
    Only calls made with the key at or after its (first) issuance count. Calls are numbered per
    key in one window pass, then summarized per key and day, then per key. -#}

with

key_issuances as (

    select * from {{ ref('int_key_issuances') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

first_issuances as (

    select *
    from (
        select
            *,
            row_number() over (
                partition by api_key_id
                order by key_issued_at, event_id
            ) as issuance_number
        from key_issuances
    ) as numbered_issuances
    where issuance_number = 1

),

number_key_calls as (

    select
        api_requests.api_key_id,
        api_requests.requested_at,
        api_requests.request_date,
        api_requests.is_2xx,
        api_requests.is_client_error or api_requests.is_server_error as is_error,
        row_number() over (
            partition by api_requests.api_key_id
            order by api_requests.requested_at, api_requests.event_id
        ) as call_number
    from api_requests
    inner join first_issuances
        on
            api_requests.api_key_id = first_issuances.api_key_id
            and api_requests.requested_at >= first_issuances.key_issued_at

),

summarize_key_days as (

    select
        api_key_id,
        request_date,
        min(requested_at) as first_call_at,
        min(requested_at) filter (where is_2xx) as first_success_at,
        min(requested_at) filter (where call_number = 100) as hundredth_call_at,
        bool_or(is_error) as has_errors
    from number_key_calls
    group by all

),

summarize_keys as (

    select
        api_key_id,
        min(first_call_at) as first_call_at,
        min(first_success_at) as first_success_at,
        min(hundredth_call_at) as hundredth_call_at,
        min(request_date) filter (where not has_errors) as first_error_free_day
    from summarize_key_days
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

)

select * from classify_keys
