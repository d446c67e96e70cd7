{#- One row per route and method with a widespread incident on the as-of date (docs/contract.md 2b
    `endpoint_degradation`): endpoint_degradation:<method>:<route>:<episode start>. The episode
    is the unbroken run of widespread-incident days ending on the as-of date; a day without one
    ends it. The platform's alert: organization_id is null and `detail` lists the organizations
    hit, so they can be warned before they write in. -#}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

endpoint_incidents as (

    select * from {{ ref('endpoint_incidents') }}

),

int_endpoint_incident_hits as (

    select * from {{ ref('int_endpoint_incident_hits') }}

),

flag_widespread_days as (

    select
        endpoint_incidents.route,
        endpoint_incidents.method,
        endpoint_incidents.usage_date,
        endpoint_incidents.scope = 'widespread' as is_widespread
    from endpoint_incidents
    cross join as_of
    where endpoint_incidents.usage_date <= as_of.as_of_date

),

find_episodes as (

    {{ flag_episodes('flag_widespread_days', ['route', 'method'], 'is_widespread') }}

),

incidents_on_as_of_date as (

    select
        endpoint_incidents.*,
        as_of.as_of_date,
        find_episodes.episode_start_date,
        find_episodes.episode_days as incident_days
    from endpoint_incidents
    inner join as_of
        on endpoint_incidents.usage_date = as_of.as_of_date
    inner join find_episodes
        on
            endpoint_incidents.route = find_episodes.route
            and endpoint_incidents.method = find_episodes.method
            and as_of.as_of_date = find_episodes.episode_last_date
    where endpoint_incidents.scope = 'widespread'

),

{# Who was hit: the organizations endpoint_incidents.affected_customers counts. #}
select_affected_organizations as (

    select int_endpoint_incident_hits.*
    from int_endpoint_incident_hits
    inner join incidents_on_as_of_date
        on
            int_endpoint_incident_hits.route = incidents_on_as_of_date.route
            and int_endpoint_incident_hits.method = incidents_on_as_of_date.method
            and int_endpoint_incident_hits.usage_date = incidents_on_as_of_date.usage_date

),

rank_affected_organizations as (

    select
        *,
        row_number() over (
            partition by route, method
            order by server_errors + slow_calls desc, organization_id asc
        ) as hit_rank
    from select_affected_organizations

),

collect_affected_organizations as (

    select
        route,
        method,
        {{ json_figures(
            ['organization_id', 'calls', 'server_errors', 'slow_calls'], ordered_by='hit_rank'
        ) }} as affected_organizations
    from rank_affected_organizations
    group by route, method

),

final as (

    select
        concat_ws(
            ':',
            'endpoint_degradation',
            incidents_on_as_of_date.method,
            incidents_on_as_of_date.route,
            cast(incidents_on_as_of_date.episode_start_date as string)
        ) as alert_key,
        'endpoint_degradation' as alert_type,
        cast(null as string) as organization_id,
        cast(null as integer) as threshold,
        incidents_on_as_of_date.as_of_date,
        {{ json_figures([
            ('route', 'incidents_on_as_of_date.route'),
            ('method', 'incidents_on_as_of_date.method'),
            ('kind', 'incidents_on_as_of_date.kind'),
            ('episode_start_date', 'incidents_on_as_of_date.episode_start_date'),
            ('incident_days', 'incidents_on_as_of_date.incident_days'),
            ('calls', 'incidents_on_as_of_date.calls'),
            ('latency_p95_ms', 'round(incidents_on_as_of_date.latency_p95_ms, 1)'),
            ('baseline_latency_p95_ms', 'round(incidents_on_as_of_date.baseline_latency_p95_ms, 1)'),
            ('server_error_rate', 'round(incidents_on_as_of_date.server_error_rate, 4)'),
            ('baseline_server_error_rate', 'round(incidents_on_as_of_date.baseline_server_error_rate, 4)'),
            ('affected_customers', 'incidents_on_as_of_date.affected_customers'),
            ('affected_organizations', 'collect_affected_organizations.affected_organizations'),
        ]) }} as detail
    from incidents_on_as_of_date
    left join collect_affected_organizations
        on
            incidents_on_as_of_date.route = collect_affected_organizations.route
            and incidents_on_as_of_date.method = collect_affected_organizations.method

)

select * from final
