{#- Every line of the plan catalogue CSV at `plans_file` (docs/contract.md section 2b, env PLANS_FILE)
    with its line number, its typed fields, and `problem`: null for a good plan line, else one
    sentence naming the file and the line ("PLANS_FILE plans.csv line 4: monthly_price 'abc'
    is not a number >= 0").

    The header (the first non-blank line) names the columns, in any order; blank lines are
    skipped; fields are split on commas, trimmed, and lose one pair of surrounding double
    quotes (a value with a comma in it is not supported, and is reported as a wrong field
    count). Plain Jinja only (no dbt functions): orchestration/plans.py renders this same
    macro to check a catalogue before a run, so the check and the build can never disagree. -#}
{% macro plan_catalogue_lines(plans_file) -%}
{%- set quoted_path = "'" ~ (plans_file | replace("'", "''")) ~ "'" -%}
with

read_catalogue as (

    select replace(replace(content, chr(65279), ''), chr(13), '') as content
    from read_text({{ quoted_path }})

),

number_lines as (

    select
        unnest(string_split(content, chr(10))) as line,
        generate_subscripts(string_split(content, chr(10)), 1) as line_number
    from read_catalogue

),

split_fields as (

    select
        line_number,
        list_transform(
            string_split(line, ','),
            lambda field: trim(trim(field), '"')
        ) as fields
    from number_lines
    where trim(line) != ''

),

find_header as (

    select
        min_by(fields, line_number) as header,
        coalesce(min(line_number), 1) as header_line,
        (select count(*) from read_catalogue) as files_read
    from split_fields

),

locate_columns as (

    select
        header,
        header_line,
        files_read,
        coalesce(
            list_position(list_transform(header, lambda name: lower(name)), 'plan_id'), 0
        ) as plan_id_at,
        coalesce(
            list_position(list_transform(header, lambda name: lower(name)), 'monthly_price'), 0
        ) as monthly_price_at,
        coalesce(
            list_position(list_transform(header, lambda name: lower(name)), 'monthly_call_limit'), 0
        ) as monthly_call_limit_at,
        coalesce(
            list_position(list_transform(header, lambda name: lower(name)), 'next_plan_id'), 0
        ) as next_plan_id_at,
        coalesce(
            list_position(list_transform(header, lambda name: lower(name)), 'overage_price_per_1k_calls'), 0
        ) as overage_price_at
    from find_header

),

check_header as (

    select
        header_line as line_number,
        case
            when files_read = 0 then 'no such file'
            when header is null then 'the file is empty; expected a header line'
            else 'the header lacks ' || array_to_string(
                list_filter(
                    [
                        case when plan_id_at = 0 then 'plan_id' end,
                        case when monthly_price_at = 0 then 'monthly_price' end,
                        case when monthly_call_limit_at = 0 then 'monthly_call_limit' end,
                        case when next_plan_id_at = 0 then 'next_plan_id' end,
                        case when overage_price_at = 0 then 'overage_price_per_1k_calls' end
                    ],
                    lambda name: name is not null
                ),
                ', '
            )
        end as reason
    from locate_columns
    where
        header is null
        or 0 in (plan_id_at, monthly_price_at, monthly_call_limit_at, next_plan_id_at, overage_price_at)

),

type_fields as (

    select
        split_fields.line_number,
        len(split_fields.fields) as field_count,
        len(locate_columns.header) as column_count,
        split_fields.fields[locate_columns.plan_id_at] as plan_id,
        split_fields.fields[locate_columns.monthly_price_at] as monthly_price_text,
        split_fields.fields[locate_columns.monthly_call_limit_at] as monthly_call_limit_text,
        nullif(split_fields.fields[locate_columns.next_plan_id_at], '') as next_plan_id,
        split_fields.fields[locate_columns.overage_price_at] as overage_price_text,
        try_cast(split_fields.fields[locate_columns.monthly_price_at] as double) as monthly_price,
        case
            when regexp_full_match(split_fields.fields[locate_columns.monthly_call_limit_at], '[0-9]{1,18}')
                then cast(split_fields.fields[locate_columns.monthly_call_limit_at] as bigint)
        end as monthly_call_limit,
        try_cast(
            split_fields.fields[locate_columns.overage_price_at] as double
        ) as overage_price_per_1k_calls
    from split_fields
    inner join locate_columns
        on split_fields.line_number > locate_columns.header_line
    where not exists (select 1 from check_header)

),

find_repeats as (

    select
        *,
        min(line_number) over (partition by plan_id) as first_line_of_plan
    from type_fields

),

check_plans as (

    select
        find_repeats.*,
        case
            when field_count != column_count
                then format('expected {} fields like the header, found {}', column_count, field_count)
            when plan_id = '' then 'plan_id is empty'
            when first_line_of_plan < line_number
                then format('plan_id ''{}'' is already on line {}', plan_id, first_line_of_plan)
            when monthly_price is null or not isfinite(monthly_price) or monthly_price < 0
                then format('monthly_price ''{}'' is not a number >= 0', monthly_price_text)
            when monthly_call_limit is null or monthly_call_limit <= 0
                then format(
                    'monthly_call_limit ''{}'' is not a whole number > 0', monthly_call_limit_text
                )
            when
                overage_price_per_1k_calls is null
                or not isfinite(overage_price_per_1k_calls)
                or overage_price_per_1k_calls < 0
                then format(
                    'overage_price_per_1k_calls ''{}'' is not a number >= 0', overage_price_text
                )
            when next_plan_id = plan_id then format('plan ''{}'' is its own next plan', plan_id)
            when next_plan_id not in (select known.plan_id from type_fields as known)
                then format('next_plan_id ''{}'' is not a plan_id in the file', next_plan_id)
        end as reason
    from find_repeats

),

final as (

    select
        line_number,
        plan_id,
        monthly_price,
        monthly_call_limit,
        next_plan_id,
        overage_price_per_1k_calls,
        case
            when reason is not null
                then format('PLANS_FILE {} line {}: {}', {{ quoted_path }}, line_number, reason)
        end as problem
    from check_plans
    union all
    select
        line_number,
        null as plan_id,
        null as monthly_price,
        null as monthly_call_limit,
        null as next_plan_id,
        null as overage_price_per_1k_calls,
        format('PLANS_FILE {} line {}: {}', {{ quoted_path }}, line_number, reason) as problem
    from check_header

)

select * from final
{%- endmacro %}
