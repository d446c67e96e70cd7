{#- One row per organization, route template, method, day, error type and status code with a
    failed call (4xx or 5xx), up to the as-of date: the day-grain fact integration_failing reads
    for each failing route's most common failure, instead of recounting the calls. -#}
{{ config(**incremental_by_day('usage_date')) }}

with

api_requests as (

    select * from {{ ref('stg_api_requests') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

failed_requests as (

    select
        api_requests.organization_id,
        api_requests.route,
        api_requests.method,
        api_requests.request_date,
        api_requests.status_code,
        {{ failure_error_type('api_requests') }} as error_type
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}
        and (api_requests.is_client_error or api_requests.is_server_error)

),

final as (

    select
        organization_id,
        route,
        method,
        request_date as usage_date,
        error_type,
        status_code,
        count(*) as failed_calls
    from failed_requests
    group by all

)

select * from final
