{#- Route template of a request (docs/contract.md "Route templates"): the gateway's `api.route` when
    present and non-empty; else the called path with its query string dropped and every segment
    that is all digits, a UUID, or 16+ hex characters replaced by {id}. One spelling per engine
    (docs/design.md "Two engines"); the patterns are the same, one alternation per segment (three
    matches per segment took 6.4 CPU-s over 10M calls, one 4.7). -#}
{% macro route_template(route, endpoint) -%}
    {{ return(adapter.dispatch('route_template')(route, endpoint)) }}
{%- endmacro %}

{% macro default__route_template(route, endpoint) -%}
    coalesce(
        nullif(trim({{ route }}), ''),
        array_to_string(
            list_transform(
                string_split(split_part({{ endpoint }}, '?', 1), '/'),
                lambda segment: case
                    when regexp_full_match(
                        segment,
                        '[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}'
                    ) then '{id}'
                    else segment
                end
            ),
            '/'
        )
    )
{%- endmacro %}

{#- split() takes a regex and keeps trailing empty parts, like string_split; rlike anchors. -#}
{% macro spark__route_template(route, endpoint) -%}
    coalesce(
        nullif(trim({{ route }}), ''),
        array_join(
            transform(
                split(split_part({{ endpoint }}, '?', 1), '/', -1),
                segment -> case
                    when segment rlike
                        '^([0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,})$'
                        then '{id}'
                    else segment
                end
            ),
            '/'
        )
    )
{%- endmacro %}
