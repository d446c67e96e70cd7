{#- Columns that are never null, all of one model in one query: one node and one asset check
    per model instead of one per column (docs/design.md). The failing rows show which is null. -#}
{% test not_null_columns(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
