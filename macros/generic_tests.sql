{#
  Generic data tests written here because the dbt hub (dbt_utils) is not reachable.
#}

{# Every non-null value of the column lies in [min_value, max_value] (bounds optional). #}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}

with

checked as (

    select {{ column_name }} as value
    from {{ model }}
    where {{ column_name }} is not null

)

select * from checked
where
    false
    {%- if min_value is not none %}
    or value {{ '<' if inclusive else '<=' }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    or value {{ '>' if inclusive else '>=' }} {{ max_value }}
    {%- endif %}

{% endtest %}


{# Every row satisfies a boolean SQL expression. #}
{% test expression_is_true(model, expression, column_name=none) %}

select * from {{ model }}
where not ({{ expression }})

{% endtest %}


{# The combination of columns is unique (a compound primary key). #}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

grouped as (

    select
        {{ combination_of_columns | join(', ') }},
        count(*) as occurrences

    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

)

select * from grouped
where occurrences > 1

{% endtest %}
