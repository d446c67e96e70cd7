{#- One row per organization, day, status class (4xx, 5xx) and error type with a failed call, up
    to the as-of date. The error type is result.error_type lower-cased, `unspecified` when absent. -#}
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
        api_requests.request_date,
        api_requests.route,
        api_requests.status_code,
        {{ failure_status_class('api_requests') }} as status_class,
        {{ failure_error_type('api_requests') }} as error_type
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and {{ rebuild_days('api_requests.request_date', ref('int_as_of_date')) }}
        and (api_requests.is_client_error or api_requests.is_server_error)

),

count_status_codes as (

    select
        organization_id,
        request_date,
        status_class,
        error_type,
        status_code,
        count(*) as status_code_calls
    from failed_requests
    group by all

),

{# The most common status code of each group, ties to the lowest code, so reruns agree. #}
rank_status_codes as (

    select
        *,
        row_number() over (
            partition by organization_id, request_date, status_class, error_type
            order by status_code_calls desc, status_code asc
        ) as status_code_rank
    from count_status_codes

),

aggregate_failures as (

    select
        failed_requests.organization_id,
        failed_requests.request_date as usage_date,
        failed_requests.status_class,
        failed_requests.error_type,
        count(*) as failed_calls,
        count(distinct failed_requests.route) as distinct_routes,
        any_value(rank_status_codes.status_code) as most_common_status_code
    from failed_requests
    inner join rank_status_codes
        on
            failed_requests.organization_id = rank_status_codes.organization_id
            and failed_requests.request_date = rank_status_codes.request_date
            and failed_requests.status_class = rank_status_codes.status_class
            and failed_requests.error_type = rank_status_codes.error_type
            and rank_status_codes.status_code_rank = 1
    group by all

)

select * from aggregate_failures
