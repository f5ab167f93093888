{#-
    Nothing lost, nothing doubled: for every order id, the raw table holds as
    many rows as the parts together (nulls as one key). Fails with the ids
    whose counts differ.

    `read_by` (the base model the parts filter) names the build that typed
    them: the raw rows are counted as that build read them
    (macros/incremental_by_order.sql, `raw_orders_read_relation`), not in the
    live table, where an order the bot wrote a second after the read would
    fail a correct build. Without that record (a warehouse built before it
    existed) the live raw table is counted.
-#}
{% test every_raw_row_lands_once(model, raw, parts, read_by=none) %}
{%- set read = none -%}
{%- if execute and read_by is not none -%}
    {%- set read = adapter.get_relation(read_by.database, read_by.schema, raw_orders_read_identifier(read_by)) -%}
{%- endif %}
with raw_counts as (
    {%- if read is not none %}
    select coalesce(order_key, '<null>') as order_key, count(*) as raw_rows
    from {{ read }}
    {%- else %}
    select coalesce(order_id::text, '<null>') as order_key, count(*) as raw_rows
    from {{ raw }}
    {%- endif %}
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
