{#- A model's primary key: the columns identify one row and are never null. dbt's unique and
    not_null in one query, so a key costs one node and one asset check, not two (docs/design.md). -#}
{% test primary_key(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1 or {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}
{% endtest %}
