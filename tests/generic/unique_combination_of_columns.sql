{#-
    Stands in for dbt_utils.unique_combination_of_columns (the package hub is
    out of reach): rows sharing every listed column's value, nulls as equal.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
with candidate_rows as (
    -- In a build, the keys of rows not yet verified (macros/tests_of_unverified_rows.sql).
    {{ rows_sharing_unverified_keys(model, combination_of_columns, null_keys_match=true) }}
)

select {{ combination_of_columns | join(', ') }}, count(*) as copies
from candidate_rows
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- Stands in for dbt_utils.accepted_range with only a lower bound. -#}
{% test at_least(model, column_name, min_value) %}
select *
from {{ model }}
where {{ column_name }} < {{ min_value }}
{% endtest %}
