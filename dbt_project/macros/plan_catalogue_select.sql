{#- The plan catalogue's lines with their `problem` (macros/plan_catalogue_lines.sql), per engine.
    DuckDB: plan_catalogue_lines itself, the plain-Jinja macro orchestration/plans.py also runs.
    Spark: the same lines, fields, checks and messages in Spark SQL. Spark reads the file as
    one text split (a catalogue is far below 128 MB), so its row order is the file's line order;
    a missing file stops the build with Spark's own message (`apiwh plans` says it first). -#}
{% macro plan_catalogue_select(plans_file) -%}
    {{ return(adapter.dispatch('plan_catalogue_select')(plans_file)) }}
{%- endmacro %}

{% macro default__plan_catalogue_select(plans_file) -%}
    {{ plan_catalogue_lines(plans_file) }}
{%- endmacro %}

{% macro spark__plan_catalogue_select(plans_file) -%}
{%- set quoted_path = "'" ~ (plans_file | replace("\\", "\\\\") | replace("'", "\\'")) ~ "'" -%}
{%- set columns = ['plan_id', 'monthly_price', 'monthly_call_limit', 'next_plan_id', 'overage_price_per_1k_calls'] -%}
{%- set field_at = "try_element_at(split_fields.fields, greatest(locate_columns.%s, 1))" -%}
with

read_lines as (

    select
        replace(replace(value, '\uFEFF', ''), '\r', '') as line,
        monotonically_increasing_id() as read_order
    from text.`{{ plans_file }}`

),

number_lines as (

    select
        line,
        row_number() over (order by read_order) as line_number
    from read_lines

),

split_fields as (

    select
        line_number,
        transform(split(line, ',', -1), field -> trim(both '"' from trim(field))) as fields
    from number_lines
    where trim(line) != ''

),

find_header as (

    select
        min_by(fields, line_number) as header,
        coalesce(min(line_number), 1) as header_line
    from split_fields

),

locate_columns as (

    select
        header,
        header_line,
        {%- for column in columns %}
        cast(coalesce(array_position(transform(header, name -> lower(name)), '{{ column }}'), 0) as int)
            as {{ column }}_at,
        {%- endfor %}
        size(header) as column_count
    from find_header

),

check_header as (

    select
        header_line as line_number,
        case
            when header is null then 'the file is empty; expected a header line'
            else 'the header lacks ' || array_join(
                array(
                    {%- for column in columns %}
                    case when {{ column }}_at = 0 then '{{ column }}' end{{ ',' if not loop.last }}
                    {%- endfor %}
                ),
                ', '
            )
        end as reason
    from locate_columns
    where
        header is null
        or 0 in ({% for column in columns %}{{ column }}_at{{ ', ' if not loop.last }}{% endfor %})

),

type_fields as (

    select
        split_fields.line_number,
        size(split_fields.fields) as field_count,
        locate_columns.column_count,
        {{ field_at % 'plan_id_at' }} as plan_id,
        {{ field_at % 'monthly_price_at' }} as monthly_price_text,
        {{ field_at % 'monthly_call_limit_at' }} as monthly_call_limit_text,
        nullif({{ field_at % 'next_plan_id_at' }}, '') as next_plan_id,
        {{ field_at % 'overage_price_per_1k_calls_at' }} as overage_price_text,
        try_cast({{ field_at % 'monthly_price_at' }} as double) as monthly_price,
        case
            when {{ field_at % 'monthly_call_limit_at' }} rlike '^[0-9]{1,18}$'
                then cast({{ field_at % 'monthly_call_limit_at' }} as bigint)
        end as monthly_call_limit,
        try_cast({{ field_at % 'overage_price_per_1k_calls_at' }} as double) as overage_price_per_1k_calls
    from split_fields
    inner join locate_columns
        on split_fields.line_number > locate_columns.header_line
    where not exists (select 1 from check_header)

),

find_repeats as (

    select
        type_fields.*,
        min(type_fields.line_number) over (partition by type_fields.plan_id) as first_line_of_plan,
        known_plans.known_plan_id
    from type_fields
    left join (select distinct plan_id as known_plan_id from type_fields) as known_plans
        on type_fields.next_plan_id = known_plans.known_plan_id

),

check_plans as (

    select
        find_repeats.*,
        case
            when field_count != column_count
                then format_string('expected %d fields like the header, found %d', column_count, field_count)
            when plan_id = '' then 'plan_id is empty'
            when first_line_of_plan < line_number
                then format_string('plan_id \'%s\' is already on line %d', plan_id, first_line_of_plan)
            when monthly_price is null or isnan(monthly_price) or abs(monthly_price) = double('Infinity')
                or monthly_price < 0
                then format_string('monthly_price \'%s\' is not a number >= 0', monthly_price_text)
            when monthly_call_limit is null or monthly_call_limit <= 0
                then format_string('monthly_call_limit \'%s\' is not a whole number > 0', monthly_call_limit_text)
            when
                overage_price_per_1k_calls is null
                or isnan(overage_price_per_1k_calls)
                or abs(overage_price_per_1k_calls) = double('Infinity')
                or overage_price_per_1k_calls < 0
                then format_string('overage_price_per_1k_calls \'%s\' is not a number >= 0', overage_price_text)
            when next_plan_id = plan_id then format_string('plan \'%s\' is its own next plan', plan_id)
            when next_plan_id is not null and known_plan_id is null
                then format_string('next_plan_id \'%s\' is not a plan_id in the file', next_plan_id)
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
                then format_string('PLANS_FILE %s line %d: %s', {{ quoted_path }}, line_number, reason)
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
        format_string('PLANS_FILE %s line %d: %s', {{ quoted_path }}, line_number, reason) as problem
    from check_header

)

select * from final
{%- endmacro %}

{#- Stop the statement with this message (the model's build fails with it). -#}
{% macro fail_with(message) -%}
    {{ return(adapter.dispatch('fail_with')(message)) }}
{%- endmacro %}

{% macro default__fail_with(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__fail_with(message) -%}
    raise_error({{ message }})
{%- endmacro %}
