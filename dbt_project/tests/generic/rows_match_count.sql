{#- The model has, per key, exactly as many rows as the `count_column` of the `counted_in`
    row with that key says, and no rows for a key `counted_in` lacks: a list and the count of
    it can never differ (endpoint_incident_customers and endpoint_incidents.affected_customers,
    docs/contract.md 2c). Returns each key whose count and rows differ. -#}
{% test rows_match_count(model, counted_in, count_column, keys) -%}

with

listed as (

    select
        {{ keys | join(', ') }},
        count(*) as listed_rows
    from {{ model }}
    group by {{ keys | join(', ') }}

),

counted as (

    select
        {{ keys | join(', ') }},
        {{ count_column }} as counted_rows
    from {{ counted_in }}

),

compare_counts as (

    select
        {% for key in keys -%}
            coalesce(counted.{{ key }}, listed.{{ key }}) as {{ key }},
        {% endfor -%}
        counted.counted_rows,
        coalesce(listed.listed_rows, 0) as listed_rows
    from counted
    full outer join listed
        on
            {% for key in keys -%}
                {% if not loop.first %}and {% endif %}counted.{{ key }} = listed.{{ key }}
            {% endfor %}

)

select * from compare_counts
where counted_rows is null or counted_rows != listed_rows

{% endtest %}
