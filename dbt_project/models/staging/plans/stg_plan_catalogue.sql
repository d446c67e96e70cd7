{#- One row per plan of the optional plan catalogue (env PLANS_FILE, docs/contract.md section 2b).
    Unset: an empty, typed relation, so every model downstream still builds (and prices
    nothing). Set: the whole file or nothing: its first bad line stops the build with one
    message naming the file and the line (macros/plan_catalogue_lines.sql). A table, so the
    file is read once per build and never again by a reader. -#}
{{ config(materialized='table') }}
{%- set plans_file = var('plans_file', env_var('PLANS_FILE', '')) | trim %}

with

catalogue_lines as (

    {% if plans_file -%}
        {{ plan_catalogue_lines(plans_file) | indent(8) }}
    {%- else -%}
        select
            cast(null as bigint) as line_number,
            cast(null as varchar) as plan_id,
            cast(null as double) as monthly_price,
            cast(null as bigint) as monthly_call_limit,
            cast(null as varchar) as next_plan_id,
            cast(null as double) as overage_price_per_1k_calls,
            cast(null as varchar) as problem
        where false
    {%- endif %}

),

find_first_problem as (

    select min_by(problem, line_number) as problem
    from catalogue_lines
    where problem is not null

),

{# error() runs only when a problem exists; it aborts the statement with that one line. #}
refuse_bad_file as (

    select error(problem) as refused
    from find_first_problem
    where problem is not null

),

keep_plans as (

    select
        cast(plan_id as varchar) as plan_id,
        cast(monthly_price as double) as monthly_price,
        cast(monthly_call_limit as bigint) as monthly_call_limit,
        cast(next_plan_id as varchar) as next_plan_id,
        cast(overage_price_per_1k_calls as double) as overage_price_per_1k_calls,
        cast(line_number as integer) as line_number
    from catalogue_lines
    where problem is null
    union all
    -- Uses the column, so the optimizer cannot drop the error() call.
    select
        cast(refused as varchar) as plan_id,
        null as monthly_price,
        null as monthly_call_limit,
        null as next_plan_id,
        null as overage_price_per_1k_calls,
        null as line_number
    from refuse_bad_file

)

select * from keep_plans
