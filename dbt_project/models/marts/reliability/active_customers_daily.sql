{#- One row per day from the first call to the as-of date: organizations and keys with at least
    one successful call (status < 400) in the day, the 7 and the 28 days ending on it. -#}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

requests_to_as_of as (

    select api_requests.*
    from api_requests
    cross join as_of
    where api_requests.request_date <= as_of.as_of_date

),

find_successful_days as (

    select distinct
        organization_id,
        api_key_id,
        request_date
    from requests_to_as_of
    where is_successful

),

find_first_day as (

    select min(request_date) as first_call_date
    from requests_to_as_of

),

day_spine as (

    select cast(spine.day as date) as usage_date
    from find_first_day
    cross join as_of
    {{ days_through('find_first_day.first_call_date', 'as_of.as_of_date') }}

),

{# Each day against the successful calls of the 28 days ending on it (0 = that day). #}
pair_with_window as (

    select
        day_spine.usage_date,
        find_successful_days.organization_id,
        find_successful_days.api_key_id,
        {{ dbt.datediff('find_successful_days.request_date', 'day_spine.usage_date', 'day') }}
            as days_before
    from day_spine
    left join find_successful_days
        on
            {{ dbt.datediff('find_successful_days.request_date', 'day_spine.usage_date', 'day') }}
            between 0 and 27

),

count_active as (

    select
        usage_date,
        count(distinct case when days_before = 0 then organization_id end) as active_customers_1d,
        count(distinct case when days_before < 7 then organization_id end) as active_customers_7d,
        count(distinct organization_id) as active_customers_28d,
        count(distinct case when days_before = 0 then api_key_id end) as active_keys_1d,
        count(distinct case when days_before < 7 then api_key_id end) as active_keys_7d,
        count(distinct api_key_id) as active_keys_28d
    from pair_with_window
    group by all

)

select * from count_active
