{#- One row per organization with a call on or before the as-of date: its 7/30-day windows
    ending on the as-of date, rank, and the trend of int_customer_daily_trend on the as-of date
    (the rule's one home); the month-over-month change and the upsell flag every face reads
    (docs/contract.md section 2c); and the 30 days' errors and latency, exact over the window's
    calls (read from the window's days of stg_api_requests only, as customer_endpoint_30d). -#}

with

daily_calls as (

    select * from {{ ref('int_customer_daily_calls') }}

),

daily_plans as (

    select * from {{ ref('int_organization_daily_plan') }}

),

daily_trends as (

    select * from {{ ref('int_customer_daily_trend') }}

),

endpoint_changes as (

    select * from {{ ref('int_customer_endpoint_changes_7d') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

requests_in_30d as (

    select
        api_requests.organization_id,
        api_requests.is_client_error,
        api_requests.is_server_error,
        api_requests.is_rate_limited,
        api_requests.request_duration_ms
    from api_requests
    cross join as_of
    where
        api_requests.request_date
        between cast({{ dbt.dateadd('day', -29, 'as_of.as_of_date') }} as date)
        and as_of.as_of_date

),

aggregate_30d as (

    select
        organization_id,
        count(*) as calls,
        count(*) filter (where is_client_error) as client_errors,
        count(*) filter (where is_server_error) as server_errors,
        count(*) filter (where is_rate_limited) as rate_limited_calls,
        {{ latency_percentile('request_duration_ms', 0.5) }} as latency_p50_ms,
        {{ latency_percentile('request_duration_ms', 0.95) }} as latency_p95_ms,
        {{ latency_percentile('request_duration_ms', 0.99) }} as latency_p99_ms
    from requests_in_30d
    group by organization_id

),

sum_windows as (

    select
        daily_calls.organization_id,
        as_of.as_of_date,
        min(daily_calls.usage_date) as first_call_date,
        max(daily_calls.usage_date) as last_call_date,
        max(daily_calls.last_call_at) as last_call_at,
        cast(coalesce(sum(daily_calls.calls) filter (
            where daily_calls.usage_date > as_of.as_of_date - 30
        ), 0) as bigint) as calls_30d,
        count(*) filter (
            where daily_calls.usage_date > as_of.as_of_date - 30
        ) as active_days_30d,
        cast(coalesce(sum(daily_calls.calls) filter (
            where daily_calls.usage_date between as_of.as_of_date - 59 and as_of.as_of_date - 30
        ), 0) as bigint) as calls_prior_30d
    from daily_calls
    cross join as_of
    group by all

),

add_trend as (

    select
        sum_windows.*,
        daily_trends.calls_7d,
        daily_trends.calls_prior_7d,
        daily_trends.trend
    from sum_windows
    inner join daily_trends
        on
            sum_windows.organization_id = daily_trends.organization_id
            and daily_trends.is_as_of_date

),

compare_windows as (

    -- The usage changes rounded half away from zero in exact integer arithmetic (a double
    -- division can land a hair below a .x5 boundary).
    select
        *,
        case
            when calls_prior_7d > 0
                then
                    sign(calls_7d - calls_prior_7d)
                    * {{ integer_divide('2000 * abs(calls_7d - calls_prior_7d) + calls_prior_7d', '2 * calls_prior_7d') }}
                    / 10
        end as usage_change_7d_pct,
        case
            when calls_prior_30d > 0
                then
                    sign(calls_30d - calls_prior_30d)
                    * {{ integer_divide('2000 * abs(calls_30d - calls_prior_30d) + calls_prior_30d', '2 * calls_prior_30d') }}
                    / 10
        end as usage_change_30d_pct,
        cast({{ dbt.datediff('last_call_date', 'as_of_date', 'day') }} as integer) as days_since_last_call,
        -- row_number() is an int on Spark, a bigint on DuckDB: the contract says bigint.
        cast(row_number() over (order by calls_30d desc, organization_id asc) as bigint) as rank_30d
    from add_trend

),

find_movers as (

    -- The weekly digest's movers: which way the 7-day calls went (none when they stayed put).
    select
        *,
        calls_7d - calls_prior_7d as calls_change_7d,
        case
            when calls_7d > calls_prior_7d then 'up'
            when calls_7d < calls_prior_7d then 'down'
        end as mover_direction_7d
    from compare_windows

),

rank_movers as (

    -- 1 = the largest change in calls among the organizations that moved the same way.
    select
        *,
        case
            when mover_direction_7d is not null
                then row_number() over (
                    partition by mover_direction_7d
                    order by abs(calls_change_7d) desc, organization_id asc
                )
        end as mover_rank_7d
    from find_movers

),

final as (

    select
        rank_movers.organization_id,
        daily_plans.plan_id,
        rank_movers.calls_30d,
        rank_movers.active_days_30d,
        rank_movers.last_call_at,
        rank_movers.calls_7d,
        rank_movers.calls_prior_7d,
        cast(rank_movers.usage_change_7d_pct as double) as usage_change_7d_pct,
        rank_movers.days_since_last_call,
        rank_movers.rank_30d,
        rank_movers.trend,
        rank_movers.first_call_date,
        rank_movers.as_of_date,
        endpoint_changes.top_endpoint_changes,
        rank_movers.calls_prior_30d,
        cast(rank_movers.usage_change_30d_pct as double) as usage_change_30d_pct,
        -- Grew more than 30% month over month; no prior month is no signal.
        coalesce(rank_movers.usage_change_30d_pct > 30, false) as is_upsell_signal,
        -- No call in the 30 days: no errors, and no rate or latency.
        cast(coalesce(aggregate_30d.client_errors, 0) as bigint) as client_errors_30d,
        cast(coalesce(aggregate_30d.server_errors, 0) as bigint) as server_errors_30d,
        cast(coalesce(aggregate_30d.rate_limited_calls, 0) as bigint) as rate_limited_calls_30d,
        (aggregate_30d.client_errors + aggregate_30d.server_errors) / aggregate_30d.calls as error_rate_30d,
        cast(aggregate_30d.latency_p50_ms as double) as latency_p50_30d_ms,
        cast(aggregate_30d.latency_p95_ms as double) as latency_p95_30d_ms,
        cast(aggregate_30d.latency_p99_ms as double) as latency_p99_30d_ms,
        cast(rank_movers.calls_change_7d as bigint) as calls_change_7d,
        rank_movers.mover_direction_7d,
        cast(rank_movers.mover_rank_7d as bigint) as mover_rank_7d
    from rank_movers
    left join daily_plans
        on
            rank_movers.organization_id = daily_plans.organization_id
            and rank_movers.as_of_date = daily_plans.plan_date
    left join endpoint_changes
        on rank_movers.organization_id = endpoint_changes.organization_id
    left join aggregate_30d
        on rank_movers.organization_id = aggregate_30d.organization_id

)

select * from final
