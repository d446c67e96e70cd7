{#- One row per API key with is_usage_spike on the as-of date (docs/contract.md 2b `usage_spike`):
    usage_spike:<key>:<episode start>. The episode is the unbroken run of spike days ending on
    the as-of date; a day without a spike (or without calls) ends it, so the next spike re-arms.
    Figures only: the words are drafted in orchestration/alerts/render.py. -#}
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

{# Consecutive spike days share a run id (day number minus their rank). #}
number_spike_runs as (

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
        key_daily_activity.is_usage_spike
        and key_daily_activity.usage_date <= as_of.as_of_date

),

find_episodes as (

    select
        api_key_id,
        run_id,
        min(usage_date) as episode_start_date,
        max(usage_date) as episode_last_date,
        count(*) as spike_days
    from number_spike_runs
    group by all

),

spikes_on_as_of_date as (

    select
        key_daily_activity.*,
        as_of.as_of_date,
        find_episodes.episode_start_date,
        find_episodes.spike_days
    from key_daily_activity
    inner join as_of
        on key_daily_activity.usage_date = as_of.as_of_date
    inner join find_episodes
        on
            key_daily_activity.api_key_id = find_episodes.api_key_id
            and as_of.as_of_date = find_episodes.episode_last_date
    where key_daily_activity.is_usage_spike

),

{# Where the spike went: the key's routes on the as-of date against their own average day over
    the 28 days before. #}
compare_routes as (

    select
        api_requests.api_key_id,
        api_requests.route,
        api_requests.method,
        count(*) filter (where api_requests.request_date = as_of.as_of_date) as calls,
        count(*) filter (where api_requests.request_date < as_of.as_of_date) / 28 as avg_daily_calls_prior_28d,
        count(*) filter (
            where api_requests.request_date = as_of.as_of_date and api_requests.is_rate_limited
        ) as rate_limited_calls,
        count(*) filter (
            where api_requests.request_date = as_of.as_of_date and api_requests.is_server_error
        ) as server_errors
    from api_requests
    inner join spikes_on_as_of_date
        on api_requests.api_key_id = spikes_on_as_of_date.api_key_id
    cross join as_of
    where {{ dbt.datediff('api_requests.request_date', 'as_of.as_of_date', 'day') }} between 0 and 28
    group by all

),

rank_routes as (

    select
        *,
        row_number() over (partition by api_key_id order by calls desc, route asc, method asc) as route_rank
    from compare_routes
    where calls > 0

),

collect_top_routes as (

    select
        api_key_id,
        list(
            {
                'route': route,
                'method': method,
                'calls': calls,
                'avg_daily_calls_prior_28d': round(avg_daily_calls_prior_28d, 1),
                'rate_limited_calls': rate_limited_calls,
                'server_errors': server_errors
            }
            order by route_rank
        ) as top_routes,
        sum(rate_limited_calls) as rate_limited_calls,
        sum(server_errors) as server_errors
    from rank_routes
    group by all

),

final as (

    select
        concat_ws(
            ':', 'usage_spike', spikes_on_as_of_date.api_key_id,
            strftime(spikes_on_as_of_date.episode_start_date, '%Y-%m-%d')
        ) as alert_key,
        'usage_spike' as alert_type,
        spikes_on_as_of_date.organization_id,
        cast(null as integer) as threshold,
        spikes_on_as_of_date.as_of_date,
        json_object(
            'api_key_id', spikes_on_as_of_date.api_key_id,
            'episode_start_date', spikes_on_as_of_date.episode_start_date,
            'spike_days', spikes_on_as_of_date.spike_days,
            'calls', spikes_on_as_of_date.calls,
            'median_calls_prior_28d', spikes_on_as_of_date.median_calls_prior_28d,
            'spike_ratio', round(spikes_on_as_of_date.spike_ratio, 1),
            'failed_calls', spikes_on_as_of_date.failed_calls,
            'error_rate', round(spikes_on_as_of_date.failed_calls / spikes_on_as_of_date.calls, 4),
            'rate_limited_calls', coalesce(collect_top_routes.rate_limited_calls, 0),
            'server_errors', coalesce(collect_top_routes.server_errors, 0),
            'distinct_routes', spikes_on_as_of_date.distinct_routes,
            'new_routes', spikes_on_as_of_date.new_routes,
            'top_routes', list_slice(coalesce(collect_top_routes.top_routes, []), 1, 3)
        ) as detail
    from spikes_on_as_of_date
    left join collect_top_routes
        on spikes_on_as_of_date.api_key_id = collect_top_routes.api_key_id

)

select * from final
