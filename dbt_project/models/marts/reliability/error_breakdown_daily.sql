{#- One row per organization, day, status class (4xx, 5xx) and error type with a failed call, up
    to the as-of date. The error type is result.error_type lower-cased, `unspecified` when absent. -#}
{{ config(contract={'enforced': true}) }}

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
        case when api_requests.is_server_error then '5xx' else '4xx' end as status_class,
        coalesce(nullif(lower(trim(api_requests.error_type)), ''), 'unspecified') as error_type
    from api_requests
    cross join as_of
    where
        api_requests.request_date <= as_of.as_of_date
        and (api_requests.is_client_error or api_requests.is_server_error)

),

aggregate_failures as (

    select
        organization_id,
        request_date as usage_date,
        status_class,
        error_type,
        count(*) as failed_calls,
        count(distinct route) as distinct_routes,
        mode(status_code) as most_common_status_code
    from failed_requests
    group by all

)

select * from aggregate_failures
