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

flag_spread_days as (

    select key_daily_activity.*
    from key_daily_activity
    cross join as_of
    where key_daily_activity.usage_date <= as_of.as_of_date

),

find_episodes as (

    {{ flag_episodes('flag_spread_days', ['api_key_id'], 'is_ip_spread') }}

),

spreads_on_as_of_date as (

    select
        key_daily_activity.*,
        as_of.as_of_date,
        find_episodes.episode_start_date,
        find_episodes.episode_days as spread_days
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

rank_countries as (

    select
        *,
        row_number() over (partition by api_key_id order by calls desc, country asc) as country_rank
    from count_countries

),

collect_countries as (

    select
        api_key_id,
        {{ json_figures(['country', 'calls', 'distinct_ip_hashes'], ordered_by='country_rank') }} as countries
    from rank_countries
    where country_rank <= 5
    group by api_key_id

),

final as (

    select
        concat_ws(
            ':',
            'key_sharing_suspect',
            spreads_on_as_of_date.api_key_id,
            cast(spreads_on_as_of_date.episode_start_date as string)
        ) as alert_key,
        'key_sharing_suspect' as alert_type,
        spreads_on_as_of_date.organization_id,
        cast(null as integer) as threshold,
        spreads_on_as_of_date.as_of_date,
        {{ json_figures([
            ('api_key_id', 'spreads_on_as_of_date.api_key_id'),
            ('episode_start_date', 'spreads_on_as_of_date.episode_start_date'),
            ('spread_days', 'spreads_on_as_of_date.spread_days'),
            ('calls', 'spreads_on_as_of_date.calls'),
            ('distinct_ip_hashes', 'spreads_on_as_of_date.distinct_ip_hashes'),
            ('median_ip_hashes_prior_28d', 'spreads_on_as_of_date.median_ip_hashes_prior_28d'),
            ('distinct_countries', 'spreads_on_as_of_date.distinct_countries'),
            ('auth_errors', 'spreads_on_as_of_date.auth_errors'),
            ('new_routes', 'spreads_on_as_of_date.new_routes'),
            ('top_countries', 'collect_countries.countries'),
        ]) }} as detail
    from spreads_on_as_of_date
    left join collect_countries
        on spreads_on_as_of_date.api_key_id = collect_countries.api_key_id

)

select * from final
