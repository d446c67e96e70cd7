{#- One row per API key with a call in the 30 days ending on the as-of date: its 30 days summed
    from key_daily_activity's days (never from the calls), the figures of its last day with calls
    in the window, and how many of its days raised each flag. The flags are key_daily_activity's
    (docs/contract.md 2b): nothing is judged again here. -#}

with

key_days as (

    select * from {{ ref('key_daily_activity') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

keep_window as (

    select
        key_days.*,
        as_of.as_of_date
    from key_days
    cross join as_of
    where {{ dbt.datediff('key_days.usage_date', 'as_of.as_of_date', 'day') }} between 0 and 29

),

aggregate_per_key as (

    select
        api_key_id,
        as_of_date,
        sum(calls) as calls_30d,
        count(*) as active_days_30d,
        max(usage_date) as last_call_date,
        max(distinct_countries) as max_distinct_countries_30d,
        sum(auth_errors) as auth_errors_30d,
        sum(failed_calls) as failed_calls_30d,
        sum(new_routes) as new_routes_30d,
        count(case when is_usage_spike then 1 end) as spike_days_30d,
        max(case when is_usage_spike then usage_date end) as last_spike_date,
        count(case when is_ip_spread then 1 end) as ip_spread_days_30d,
        max(case when is_ip_spread then usage_date end) as last_ip_spread_date
    from keep_window
    group by all

),

{# The last day's row itself, joined rather than taken with max_by: its medians may be null, and
    DuckDB's arg_max skips null values where Spark's max_by keeps them. #}
add_last_day as (

    select
        last_day.organization_id,
        aggregate_per_key.api_key_id,
        cast(aggregate_per_key.calls_30d as bigint) as calls_30d,
        cast(aggregate_per_key.active_days_30d as bigint) as active_days_30d,
        aggregate_per_key.last_call_date,
        last_day.calls as last_day_calls,
        last_day.median_calls_prior_28d as last_day_median_calls_prior_28d,
        last_day.spike_ratio as last_day_spike_ratio,
        last_day.distinct_ip_hashes as last_day_distinct_ip_hashes,
        last_day.median_ip_hashes_prior_28d as last_day_median_ip_hashes_prior_28d,
        cast(aggregate_per_key.max_distinct_countries_30d as bigint) as max_distinct_countries_30d,
        cast(aggregate_per_key.auth_errors_30d as bigint) as auth_errors_30d,
        cast(aggregate_per_key.failed_calls_30d as bigint) as failed_calls_30d,
        cast(aggregate_per_key.new_routes_30d as bigint) as new_routes_30d,
        cast(aggregate_per_key.spike_days_30d as bigint) as spike_days_30d,
        aggregate_per_key.last_spike_date,
        cast(aggregate_per_key.ip_spread_days_30d as bigint) as ip_spread_days_30d,
        aggregate_per_key.last_ip_spread_date,
        aggregate_per_key.as_of_date
    from aggregate_per_key
    inner join key_days as last_day
        on
            aggregate_per_key.api_key_id = last_day.api_key_id
            and aggregate_per_key.last_call_date = last_day.usage_date

)

select * from add_last_day
