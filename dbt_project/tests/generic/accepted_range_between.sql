{#- Values outside [min_value, max_value] fail (dbt_utils.accepted_range is not reachable offline). -#}
{% test accepted_range_between(model, column_name, min_value, max_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
