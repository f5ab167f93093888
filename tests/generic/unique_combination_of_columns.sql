{#-
    Stands in for dbt_utils.unique_combination_of_columns (the package hub is
    out of reach): rows sharing every listed column's value, nulls as equal.
-#}
{#- In a build that kept some symbols' rows, checked on what it recomputed (macros/postgres__test_unique.sql). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- if symbols_kept_by_this_build(model) -%}
{{ unique_among_recomputed_symbols(model, combination_of_columns, nulls_equal=true) }}
{%- else -%}
select {{ combination_of_columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endtest %}

{#- Stands in for dbt_utils.accepted_range with only a lower bound. -#}
{% test at_least(model, column_name, min_value) %}
select *
from {{ model }}
where {{ column_name }} < {{ min_value }}
{% endtest %}
