{#- One row per API key and day with a call, up to the as-of date: the key against its own past
    (docs/contract.md 2b), so a key that always calls a lot or from many places is not flagged.
    - median_calls_prior_28d: median of the key's daily calls over the 28 days before, days
      without calls counted as 0, only days on or after the key's first call; null with fewer
      than 7 such days.
    - median_ip_hashes_prior_28d: median of the daily distinct IP hashes over the days with calls
      among the 28 before; null with fewer than 7 such days.
    - is_usage_spike / is_ip_spread: the thresholds below (dbt vars); false when the median is
      null. -#}

with

key_daily_calls as (

    select * from {{ ref('int_key_daily_calls') }}

),

key_route_days as (

    select * from {{ ref('int_key_route_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

{# Read from the daily facts (up to the as-of date), never from the calls themselves. #}
find_route_first_days as (

    select
        api_key_id,
        route,
        min(usage_date) as first_route_date
    from key_route_days
    group by all

),

count_new_routes as (

    select
        api_key_id,
        first_route_date as usage_date,
        count(*) as new_routes
    from find_route_first_days
    group by all

),

aggregate_per_key_day as (

    select
        api_key_id,
        usage_date,
        organization_id,
        calls,
        distinct_ip_hashes,
        distinct_countries,
        auth_errors,
        failed_calls,
        distinct_routes
    from key_daily_calls

),

find_key_first_days as (

    select
        api_key_id,
        min(usage_date) as first_call_date
    from aggregate_per_key_day
    group by all

),

{# Every day from the key's first call to the as-of date; days without calls have 0 calls and
    no IP count (they count for the calls median, not for the IP median). #}
fill_key_days as (

    select
        find_key_first_days.api_key_id,
        cast(spine.day as date) as usage_date,
        coalesce(aggregate_per_key_day.calls, 0) as calls,
        aggregate_per_key_day.distinct_ip_hashes
    from find_key_first_days
    cross join as_of
    {{ days_through('find_key_first_days.first_call_date', 'as_of.as_of_date') }}
    left join aggregate_per_key_day
        on
            find_key_first_days.api_key_id = aggregate_per_key_day.api_key_id
            and cast(spine.day as date) = aggregate_per_key_day.usage_date

),

measure_prior_28_days as (

    select
        aggregate_per_key_day.api_key_id,
        aggregate_per_key_day.usage_date,
        count(*) as prior_days,
        percentile_cont(0.5) within group (order by fill_key_days.calls) as median_calls,
        count(fill_key_days.distinct_ip_hashes) as prior_days_with_calls,
        percentile_cont(0.5) within group (
            order by fill_key_days.distinct_ip_hashes
        ) as median_ip_hashes
    from aggregate_per_key_day
    inner join fill_key_days
        on
            aggregate_per_key_day.api_key_id = fill_key_days.api_key_id
            and {{ dbt.datediff('fill_key_days.usage_date', 'aggregate_per_key_day.usage_date', 'day') }}
            between 1 and 28
    group by all

),

apply_minimum_days as (

    select
        aggregate_per_key_day.*,
        coalesce(count_new_routes.new_routes, 0) as new_routes,
        coalesce(measure_prior_28_days.prior_days, 0) as prior_days,
        cast(
            case when measure_prior_28_days.prior_days >= 7 then measure_prior_28_days.median_calls end
            as double
        ) as median_calls_prior_28d,
        cast(
            case
                when measure_prior_28_days.prior_days_with_calls >= 7
                    then measure_prior_28_days.median_ip_hashes
            end as double
        ) as median_ip_hashes_prior_28d
    from aggregate_per_key_day
    left join measure_prior_28_days
        on
            aggregate_per_key_day.api_key_id = measure_prior_28_days.api_key_id
            and aggregate_per_key_day.usage_date = measure_prior_28_days.usage_date
    left join count_new_routes
        on
            aggregate_per_key_day.api_key_id = count_new_routes.api_key_id
            and aggregate_per_key_day.usage_date = count_new_routes.usage_date

),

flag_anomalies as (

    select
        *,
        -- greatest() skips nulls: guard it, the ratio is null while the median is.
        case
            when median_calls_prior_28d is not null
                then calls / greatest(median_calls_prior_28d, 1)
        end as spike_ratio,
        coalesce(
            calls >= {{ var('spike_min_calls') }}
            and median_calls_prior_28d is not null
            and calls / greatest(median_calls_prior_28d, 1) >= {{ var('spike_factor') }},
            false
        ) as is_usage_spike,
        coalesce(
            distinct_ip_hashes >= {{ var('ip_spread_min') }}
            and distinct_ip_hashes >= {{ var('ip_spread_factor') }} * median_ip_hashes_prior_28d,
            false
        ) as is_ip_spread
    from apply_minimum_days

),

final as (

    select
        api_key_id,
        organization_id,
        usage_date,
        calls,
        median_calls_prior_28d,
        spike_ratio,
        distinct_ip_hashes,
        median_ip_hashes_prior_28d,
        distinct_countries,
        auth_errors,
        new_routes,
        is_usage_spike,
        is_ip_spread,
        failed_calls,
        distinct_routes,
        prior_days
    from flag_anomalies

)

select * from final
