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

key_route_daily as (

    select * from {{ ref('int_key_route_daily') }}

),

flag_spike_days as (

    select key_daily_activity.*
    from key_daily_activity
    cross join as_of
    where key_daily_activity.usage_date <= as_of.as_of_date

),

find_episodes as (

    {{ flag_episodes('flag_spike_days', ['api_key_id'], 'is_usage_spike') }}

),

spikes_on_as_of_date as (

    select
        key_daily_activity.*,
        as_of.as_of_date,
        find_episodes.episode_start_date,
        find_episodes.episode_days as spike_days
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
    the 28 days before, from the key-route day facts. #}
compare_routes as (

    select
        key_route_daily.api_key_id,
        key_route_daily.route,
        key_route_daily.method,
        coalesce(
            sum(key_route_daily.calls) filter (where key_route_daily.usage_date = as_of.as_of_date), 0
        ) as calls,
        coalesce(
            sum(key_route_daily.calls) filter (where key_route_daily.usage_date < as_of.as_of_date), 0
        ) / 28 as avg_daily_calls_prior_28d,
        coalesce(
            sum(key_route_daily.rate_limited_calls) filter (
                where key_route_daily.usage_date = as_of.as_of_date
            ),
            0
        ) as rate_limited_calls,
        coalesce(
            sum(key_route_daily.server_errors) filter (
                where key_route_daily.usage_date = as_of.as_of_date
            ),
            0
        ) as server_errors
    from key_route_daily
    inner join spikes_on_as_of_date
        on key_route_daily.api_key_id = spikes_on_as_of_date.api_key_id
    cross join as_of
    where {{ dbt.datediff('key_route_daily.usage_date', 'as_of.as_of_date', 'day') }} between 0 and 28
    group by key_route_daily.api_key_id, key_route_daily.route, key_route_daily.method

),

rank_routes as (

    select
        *,
        row_number() over (partition by api_key_id order by calls desc, route asc, method asc) as route_rank,
        sum(rate_limited_calls) over (partition by api_key_id) as key_rate_limited_calls,
        sum(server_errors) over (partition by api_key_id) as key_server_errors
    from compare_routes
    where calls > 0

),

collect_top_routes as (

    select
        api_key_id,
        {{ json_figures([
            'route',
            'method',
            'calls',
            ('avg_daily_calls_prior_28d', 'round(avg_daily_calls_prior_28d, 1)'),
            'rate_limited_calls',
            'server_errors',
        ], ordered_by='route_rank') }} as top_routes,
        max(key_rate_limited_calls) as rate_limited_calls,
        max(key_server_errors) as server_errors
    from rank_routes
    where route_rank <= 3
    group by api_key_id

),

final as (

    select
        concat_ws(
            ':',
            'usage_spike',
            spikes_on_as_of_date.api_key_id,
            cast(spikes_on_as_of_date.episode_start_date as string)
        ) as alert_key,
        'usage_spike' as alert_type,
        spikes_on_as_of_date.organization_id,
        cast(null as integer) as threshold,
        spikes_on_as_of_date.as_of_date,
        {{ json_figures([
            ('api_key_id', 'spikes_on_as_of_date.api_key_id'),
            ('episode_start_date', 'spikes_on_as_of_date.episode_start_date'),
            ('spike_days', 'spikes_on_as_of_date.spike_days'),
            ('calls', 'spikes_on_as_of_date.calls'),
            ('median_calls_prior_28d', 'spikes_on_as_of_date.median_calls_prior_28d'),
            ('spike_ratio', 'round(spikes_on_as_of_date.spike_ratio, 1)'),
            ('failed_calls', 'spikes_on_as_of_date.failed_calls'),
            ('error_rate', 'round(spikes_on_as_of_date.failed_calls / spikes_on_as_of_date.calls, 4)'),
            ('rate_limited_calls', 'coalesce(collect_top_routes.rate_limited_calls, 0)'),
            ('server_errors', 'coalesce(collect_top_routes.server_errors, 0)'),
            ('distinct_routes', 'spikes_on_as_of_date.distinct_routes'),
            ('new_routes', 'spikes_on_as_of_date.new_routes'),
            ('top_routes', 'collect_top_routes.top_routes'),
        ]) }} as detail
    from spikes_on_as_of_date
    left join collect_top_routes
        on spikes_on_as_of_date.api_key_id = collect_top_routes.api_key_id

)

select * from final
