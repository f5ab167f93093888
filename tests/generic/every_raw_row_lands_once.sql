{#-
    Nothing lost, nothing doubled: for every order id, the raw table holds as
    many rows as the parts together (nulls as one key). Fails with the ids
    whose counts differ.
-#}
{% test every_raw_row_lands_once(model, raw, parts) %}
with raw_counts as (
    select coalesce(order_id, '<null>') as order_key, count(*) as raw_rows
    from {{ raw }}
    group by 1
),

part_rows as (
    {%- for part in parts %}
    select coalesce(order_id, '<null>') as order_key from {{ part }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

part_counts as (
    select order_key, count(*) as part_rows
    from part_rows
    group by 1
)

select coalesce(raw_counts.order_key, part_counts.order_key) as order_key, raw_rows, part_rows
from raw_counts
full outer join part_counts on raw_counts.order_key = part_counts.order_key
where coalesce(raw_rows, 0) <> coalesce(part_rows, 0)
{% endtest %}
