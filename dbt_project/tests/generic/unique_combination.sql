{#- Multi-column uniqueness (the hub's dbt_utils cannot be fetched offline, docs/design.md). -#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
