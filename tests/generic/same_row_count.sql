{#-
    The model has as many rows as `other` (a view over a stored model, or a
    compatibility view, shows every row). Stands in for dbt-utils'
    `equal_rowcount`.
-#}
{% test same_row_count(model, other) %}
select model_rows.row_count as model_rows, other_rows.row_count as other_rows
from (select count(*) as row_count from {{ model }}) as model_rows
cross join (select count(*) as row_count from {{ other }}) as other_rows
where model_rows.row_count <> other_rows.row_count
{% endtest %}
