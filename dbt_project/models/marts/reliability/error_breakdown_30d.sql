{#- One row per organization, status class (4xx, 5xx) and error type with a failed call in the 30
    days ending on the as-of date: error_breakdown_daily's days summed over the window, so the
    taxonomy is the daily mart's and the calls are never read again. -#}

with

error_days as (

    select * from {{ ref('error_breakdown_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

aggregate_over_window as (

    select
        error_days.organization_id,
        error_days.status_class,
        error_days.error_type,
        cast(sum(error_days.failed_calls) as bigint) as failed_calls_30d,
        cast(count(*) as bigint) as failed_days_30d,
        max(error_days.usage_date) as last_failed_date,
        as_of.as_of_date
    from error_days
    cross join as_of
    where {{ dbt.datediff('error_days.usage_date', 'as_of.as_of_date', 'day') }} between 0 and 29
    group by all

)

select * from aggregate_over_window
