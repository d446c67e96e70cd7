{#- One row per API key with is_ip_spread on the as-of date (docs/contract.md 2b
    `key_sharing_suspect`): key_sharing_suspect:<key>:<episode start>. The episode is the
    unbroken run of IP-spread days ending on the as-of date; a day without (or without calls)
    ends it. Figures only: the words are drafted in orchestration/alerts/render.py. -#}
with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

key_daily_activity as (

    select * from {{ ref('key_daily_activity') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

{# Consecutive spread days share a run id (day number minus their rank). #}
number_spread_runs as (

    select
        key_daily_activity.api_key_id,
        key_daily_activity.usage_date,
        {{ dbt.datediff("cast('2000-01-01' as date)", 'key_daily_activity.usage_date', 'day') }}
        - row_number() over (
            partition by key_daily_activity.api_key_id
            order by key_daily_activity.usage_date
        ) as run_id
    from key_daily_activity
    cross join as_of
    where
        key_daily_activity.is_ip_spread
        and key_daily_activity.usage_date <= as_of.as_of_date

),

find_episodes as (

    select
        api_key_id,
        run_id,
        min(usage_date) as episode_start_date,
        max(usage_date) as episode_last_date,
        count(*) as spread_days
    from number_spread_runs
    group by all

),

spreads_on_as_of_date as (

    select
        key_daily_activity.*,
        as_of.as_of_date,
        find_episodes.episode_start_date,
        find_episodes.spread_days
    from key_daily_activity
    inner join as_of
        on key_daily_activity.usage_date = as_of.as_of_date
    inner join find_episodes
        on
            key_daily_activity.api_key_id = find_episodes.api_key_id
            and as_of.as_of_date = find_episodes.episode_last_date
    where key_daily_activity.is_ip_spread

),

{# Where the calls came from on the as-of date: countries by calls and distinct IP hashes. #}
count_countries as (

    select
        api_requests.api_key_id,
        coalesce(api_requests.network_country, 'unknown') as country,
        count(*) as calls,
        count(distinct api_requests.network_ip_hash) as distinct_ip_hashes
    from api_requests
    inner join spreads_on_as_of_date
        on
            api_requests.api_key_id = spreads_on_as_of_date.api_key_id
            and api_requests.request_date = spreads_on_as_of_date.as_of_date
    group by all

),

collect_countries as (

    select
        api_key_id,
        list(
            { 'country': country, 'calls': calls, 'distinct_ip_hashes': distinct_ip_hashes }
            order by calls desc, country asc
        ) as countries
    from count_countries
    group by all

),

final as (

    select
        concat_ws(
            ':', 'key_sharing_suspect', spreads_on_as_of_date.api_key_id,
            strftime(spreads_on_as_of_date.episode_start_date, '%Y-%m-%d')
        ) as alert_key,
        'key_sharing_suspect' as alert_type,
        spreads_on_as_of_date.organization_id,
        cast(null as integer) as threshold,
        spreads_on_as_of_date.as_of_date,
        json_object(
            'api_key_id', spreads_on_as_of_date.api_key_id,
            'episode_start_date', spreads_on_as_of_date.episode_start_date,
            'spread_days', spreads_on_as_of_date.spread_days,
            'calls', spreads_on_as_of_date.calls,
            'distinct_ip_hashes', spreads_on_as_of_date.distinct_ip_hashes,
            'median_ip_hashes_prior_28d', spreads_on_as_of_date.median_ip_hashes_prior_28d,
            'distinct_countries', spreads_on_as_of_date.distinct_countries,
            'auth_errors', spreads_on_as_of_date.auth_errors,
            'new_routes', spreads_on_as_of_date.new_routes,
            'top_countries', list_slice(coalesce(collect_countries.countries, []), 1, 5)
        ) as detail
    from spreads_on_as_of_date
    left join collect_countries
        on spreads_on_as_of_date.api_key_id = collect_countries.api_key_id

)

select * from final
