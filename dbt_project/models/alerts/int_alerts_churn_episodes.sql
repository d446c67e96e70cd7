{#- One row per organization whose trend (int_customer_daily_trend) is declining or dormant on
    the as-of date: the episode in force, the unbroken run of at-risk days ending on the as-of
    date (docs/contract.md `churn_risk`: a new episode needs a steady, growing or new day in
    between). The trend is recomputed for every day from the daily calls, never from run
    history, so the first day of the episode, and the alert's key, are the same on every rerun. -#}
with

daily_trends as (

    select * from {{ ref('int_customer_daily_trend') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

flag_risk_days as (

    select
        organization_id,
        usage_date,
        trend in ('declining', 'dormant') as is_at_risk
    from daily_trends

),

find_episodes as (

    {{ flag_episodes('flag_risk_days', ['organization_id'], 'is_at_risk') }}

),

keep_episodes_in_force as (

    select
        find_episodes.organization_id,
        find_episodes.episode_start_date,
        find_episodes.episode_days,
        as_of.as_of_date
    from find_episodes
    inner join as_of
        on find_episodes.episode_last_date = as_of.as_of_date

)

select * from keep_episodes_in_force
