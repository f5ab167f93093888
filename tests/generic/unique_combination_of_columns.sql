{#-
    Stands in for dbt_utils.unique_combination_of_columns (the package hub is
    out of reach): rows sharing every listed column's value, nulls as equal.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Stands in for dbt_utils.accepted_range with only a lower bound. -#}
{% test at_least(model, column_name, min_value) %}
select *
from {{ model }}
where {{ column_name }} < {{ min_value }}
{% endtest %}
