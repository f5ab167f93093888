{#- Stands in for dbt_utils.accepted_range with only an upper bound. -#}
{% test at_most(model, column_name, max_value) %}
select *
from {{ model }}
where {{ column_name }} > {{ max_value }}
{% endtest %}

{#-
    Stands in for dbt_utils.sequential_values on dates (interval 1 day): the
    column holds every day from its first to its last exactly once.
-#}
{% test full_calendar(model, column_name) %}
with days as (
    select {{ column_name }} as date_day from {{ model }}
),

span as (
    select
        count(*) as row_count,
        count(distinct date_day) as distinct_days,
        coalesce(max(date_day) - min(date_day) + 1, 0) as calendar_days
    from days
)

select * from span
where row_count <> calendar_days or distinct_days <> calendar_days
{% endtest %}

{#-
    The model's column sums to the same total as another model's column (with
    an optional filter on each side), within the FIFO dust: the reporting
    marts must add up to the allocations they were computed from. A filter may
    read the tested model as `model_rows`.
-#}
{% test total_matches(model, column_name, other, other_column, where_self='true', where_other='true') %}
-- `not materialized`: a filter that reads model_rows again made PostgreSQL
-- write every row of the model aside first (the equity curve's 400k rows at
-- 1M fills: 1 s of the test's 1.4-1.8 s); each reading scans it instead.
with model_rows as not materialized (
    select * from {{ model }}
),

this_total as (
    select coalesce(sum({{ column_name }}), 0) as total
    from model_rows
    where {{ where_self }}
),

other_total as (
    select coalesce(sum({{ other_column }}), 0) as total
    from {{ other }}
    where {{ where_other }}
)

select this_total.total as model_total, other_total.total as other_total
from this_total
cross join other_total
where abs(this_total.total - other_total.total) > {{ var('fifo_dust') }}
{% endtest %}

{#-
    A check's total repeated on its rows: within each group of `group_by`,
    `column_name` holds one value, and it equals the sum of `summed_column`
    over the group's rows (null only when every summed value is null).
-#}
{% test is_group_total(model, column_name, summed_column, group_by) %}
with groups as (
    select
        {{ group_by }} as group_key,
        count(distinct {{ column_name }}) as distinct_totals,
        count({{ column_name }}) as totals,
        count(*) as group_rows,
        max({{ column_name }}) as total,
        sum({{ summed_column }}) as summed
    from {{ model }}
    group by {{ group_by }}
)

select * from groups
where distinct_totals > 1
    or (totals > 0 and totals < group_rows)
    or total is distinct from summed
{% endtest %}
