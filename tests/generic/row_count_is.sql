{#-
    The model has exactly `expected` rows. Stands in for dbt_expectations'
    `expect_table_row_count_to_equal` (the package hub is out of reach here).
    An `--empty` build reads no rows, so there is no count to check then.
-#}
{% test row_count_is(model, expected) %}
select count(*) as row_count
from {{ model }}
having count(*) <> {{ expected }}{{ " and false" if is_empty_build() }}
{% endtest %}
