{#- The calls onboarding_funnel reads, one row per call, kept at day grain so the funnel stays
    exact once older calls are past raw retention (docs/governance.md):
    - every call of a key on a day it was issued (the calls before the issuance do not count,
      so the funnel needs them all);
    - on other days the day's first 100 calls, by time then event id (the key's 100th call is
      among them), unless the key had already made 100 calls on the whole days between its
      first issuance and that day. Counts only grow, so such a day is never needed later.
    Incremental by touched days (macros/incremental_days.sql): a late issuance touches its day. -#}
{{ config(**incremental_by_day('request_date')) }}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

key_issuances as (

    select * from {{ ref('int_key_issuances') }}

),

key_daily_calls as (

    select * from {{ ref('int_key_daily_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_to_rebuild as (

    select
        api_requests.event_id,
        api_requests.api_key_id,
        api_requests.requested_at,
        api_requests.request_date,
        api_requests.is_2xx,
        api_requests.is_client_error,
        api_requests.is_server_error
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and api_requests.api_key_id is not null
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}

),

issuance_days as (

    select distinct
        api_key_id,
        key_issued_date
    from key_issuances

),

first_issuance_days as (

    select
        api_key_id,
        min(key_issued_date) as first_issued_date
    from key_issuances
    group by all

),

{# Per key and day: its calls on the whole days after its first issuance day, before this one. #}
count_earlier_calls as (

    select
        key_daily_calls.api_key_id,
        key_daily_calls.usage_date,
        sum(key_daily_calls.calls) over (
            partition by key_daily_calls.api_key_id
            order by key_daily_calls.usage_date
            rows between unbounded preceding and current row
        ) - key_daily_calls.calls as calls_on_days_before
    from key_daily_calls
    inner join first_issuance_days
        on
            key_daily_calls.api_key_id = first_issuance_days.api_key_id
            and key_daily_calls.usage_date > first_issuance_days.first_issued_date

),

keep_key_days as (

    select
        requests_to_rebuild.*,
        issuance_days.api_key_id is not null as is_issuance_day
    from requests_to_rebuild
    left join issuance_days
        on
            requests_to_rebuild.api_key_id = issuance_days.api_key_id
            and requests_to_rebuild.request_date = issuance_days.key_issued_date
    left join count_earlier_calls
        on
            requests_to_rebuild.api_key_id = count_earlier_calls.api_key_id
            and requests_to_rebuild.request_date = count_earlier_calls.usage_date
    where
        issuance_days.api_key_id is not null
        or coalesce(count_earlier_calls.calls_on_days_before, 0) < 100

),

number_calls as (

    select
        *,
        row_number() over (
            partition by api_key_id, request_date
            order by requested_at, event_id
        ) as call_number_in_day
    from keep_key_days

),

final as (

    select
        event_id,
        api_key_id,
        requested_at,
        request_date,
        is_2xx,
        is_client_error,
        is_server_error
    from number_calls
    where is_issuance_day or call_number_in_day <= 100

)

select * from final
