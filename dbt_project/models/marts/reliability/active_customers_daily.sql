{#- One row per day from the first call to the as-of date: organizations and keys with at least
    one successful call (status < 400) in the day, the 7 and the 28 days ending on it. Read from
    the daily facts (int_customer_daily_calls, int_key_daily_calls), never from the calls.
    Incremental by touched days: a day's row reads the 28 days ending on it, so each touched day
    also rebuilds the 27 after it (`days_after`); days before the first one built (a late file
    from before every other) are rebuilt too. -#}
{{ config(**incremental_by_day('usage_date')) }}

{%- set earliest_built_day = first_built_day('usage_date') -%}

with

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

key_daily_calls as (

    select * from {{ ref('int_key_daily_calls') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

find_successful_days as (

    select
        'organization' as member_kind,
        organization_id as member_id,
        usage_date
    from daily_calls
    where successful_calls > 0
    union all
    select
        'key' as member_kind,
        api_key_id as member_id,
        usage_date
    from key_daily_calls
    where successful_calls > 0

),

find_first_day as (

    select min(usage_date) as first_call_date
    from daily_calls

),

day_spine as (

    select cast(spine.day as date) as usage_date
    from find_first_day
    cross join as_of
    {{ days_through('find_first_day.first_call_date', 'as_of.as_of_date') }}
    where
        {{ rebuild_days('cast(spine.day as date)', ref('int_as_of_date'), days_after=27) }}{{ " or cast(spine.day as date) < cast('" ~ earliest_built_day ~ "' as date)" if earliest_built_day is not none }}

),

{# Each day against the successful days of the 28 days ending on it (0 = that day). #}
pair_with_window as (

    select
        day_spine.usage_date,
        find_successful_days.member_kind,
        find_successful_days.member_id,
        {{ dbt.datediff('find_successful_days.usage_date', 'day_spine.usage_date', 'day') }}
            as days_before
    from day_spine
    left join find_successful_days
        on
            {{ dbt.datediff('find_successful_days.usage_date', 'day_spine.usage_date', 'day') }}
            between 0 and 27

),

count_active as (

    select
        usage_date,
        count(distinct case
            when member_kind = 'organization' and days_before = 0 then member_id
        end) as active_customers_1d,
        count(distinct case
            when member_kind = 'organization' and days_before < 7 then member_id
        end) as active_customers_7d,
        count(distinct case when member_kind = 'organization' then member_id end)
            as active_customers_28d,
        count(distinct case when member_kind = 'key' and days_before = 0 then member_id end)
            as active_keys_1d,
        count(distinct case when member_kind = 'key' and days_before < 7 then member_id end)
            as active_keys_7d,
        count(distinct case when member_kind = 'key' then member_id end) as active_keys_28d
    from pair_with_window
    group by all

)

select * from count_active
