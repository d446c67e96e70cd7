{#- One row per organization and API version (the route's major version, v1 in /v1/...) with a call in the 30 days ending on the
    as-of date (docs/contract.md 2b): the path rows of int_api_version_exposure. -#}

with

version_exposure as (

    select * from {{ ref('int_api_version_exposure') }}

),

final as (

    select
        organization_id,
        api_version,
        calls_30d,
        share_of_org_calls_30d,
        first_call_at,
        last_call_at,
        version_source
    from version_exposure
    where version_source = 'path'

)

select * from final
