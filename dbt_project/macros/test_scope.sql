{#- Data tests on an incremental build look at the days that build rebuilt (docs/design.md
    "Incremental by touched days"): every other row passed the tests of an earlier build, and no
    build since has changed it.

    That holds when the model's previous build was part of a build that succeeded: one Dagster
    recorded in meta.model_builds after it (orchestration/build_state.py). Otherwise (that build
    failed or was killed, or nothing records builds: a warehouse only ever built by hand) and on
    a full build, a test reads every row, as it does with var test_scope = 'all'. Only tests
    that look at one row at a time or at a key are narrowed:
    - row tests (not_null_columns, accepted_values, accepted_range_between) read the rebuilt days;
    - key tests (primary_key, unique_combination) read the rebuilt days, plus, when the key has
      no day in it, every row sharing a key with them: a duplicate across an old day and a
      rebuilt one still fails;
    - tests across models (relationships, rows_match_count) and singular tests read everything. -#}

{#- dbt wraps the `model` argument of every generic test in this macro (its own version applies
    the `where` config, kept here). -#}
{% macro get_where_subquery(relation) -%}
    {%- set tested = rows_to_test(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {{ return('(select * from ' ~ tested ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(tested) }}
{%- endmacro %}

{#- `relation`, or a subquery keeping the rows the running test must look at. -#}
{% macro rows_to_test(relation) -%}
    {%- if not execute or var('test_scope', 'rebuilt_days') == 'all' -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set test_name = (model.test_metadata or {}).get('name') -%}
    {%- set columns = tested_key_columns(model.test_metadata) -%}
    {%- if test_name not in ['not_null_columns', 'accepted_values', 'accepted_range_between']
        and columns is none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set tested_model = graph.nodes.get(model.attached_node) -%}
    {%- set day_column = (tested_model.config.meta or {}).get('day_column') if tested_model else none -%}
    {%- if day_column is none -%}
        {{ return(relation) }}  {#- not an incremental model: it was rebuilt whole -#}
    {%- endif -%}
    {%- set days = last_rebuilt_days(tested_model.alias or tested_model.name) -%}
    {%- if days is none -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if columns is none or day_column in columns -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ on_days(day_column, days) ~ ') rebuilt_rows') }}
    {%- endif -%}
    {#- A semi join (an `or` would make it a slower mark join); rows with a null key match no
        key, so the rebuilt days' ones are added apart, without counting a row twice. -#}
    {%- set same_key -%}
        {% for column in columns %}rebuilt.{{ column }} = tested.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
    {%- endset -%}
    {%- set null_key -%}
        {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
    {%- endset -%}
    {{ return(
        '(select * from ' ~ relation ~ ' as tested where exists (select 1 from ' ~ relation
        ~ ' as rebuilt where ' ~ same_key ~ ' and ' ~ on_days('rebuilt.' ~ day_column, days) ~ ')'
        ~ ' union all select * from ' ~ relation ~ ' where ' ~ on_days(day_column, days)
        ~ ' and (' ~ null_key ~ ')) rows_sharing_a_key'
    ) }}
{%- endmacro %}

{#- The key columns of a key test (a list), or none for any other test. -#}
{% macro tested_key_columns(test_metadata) -%}
    {%- set name = (test_metadata or {}).get('name') -%}
    {%- set kwargs = (test_metadata or {}).get('kwargs') or {} -%}
    {%- if name in ['primary_key', 'unique_combination'] -%}
        {{ return(kwargs.get('columns')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- The days the model's last build replaced ('YYYY-MM-DD' strings), or none when it rebuilt
    every day, recorded nothing, or its build before that is not known to have succeeded. -#}
{% macro last_rebuilt_days(model_name) -%}
    {%- set builds = adapter.get_relation(database=target.database, schema='meta', identifier='model_builds') -%}
    {%- if builds is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = run_query(
        "select full_rebuild, rebuilt_day_list, recorded_at <= (select max(built_at) from " ~ builds
        ~ ") from " ~ incremental_state_relation() ~ " where model_name = '" ~ model_name
        ~ "' order by recorded_at desc limit 2"
    ) -%}
    {%- if state.rows | length < 2 or state.rows[0][0] or state.rows[0][1] is none or not state.rows[1][2] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(state.rows[0][1].split(',') if state.rows[0][1] else []) }}
{%- endmacro %}
