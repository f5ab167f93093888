{#-
    Nothing lost, nothing doubled: for every order id, the raw table holds as
    many rows as the parts together (nulls as one key). Fails with the ids
    whose counts differ.

    `read_by` (the base model the parts filter) names the build that typed
    them: the raw rows are counted as that build read them
    (macros/incremental_by_order.sql, `raw_orders_read_relation`), not in the
    live table, where an order the bot wrote a second after the read would
    fail a correct build. Without that record (a warehouse built before it
    existed), and in an `--empty` build, where every ref and source reads no
    rows, the raw table is counted as the build read it.

    Counting every id on both sides groups a million keys twice (about 4 s
    at 1M orders, every scheduled build). So each side is first summed up
    as its row count and the sum of a 64-bit hash of its keys, which are
    equal whenever the per-id counts are; only when they differ are the ids
    counted, to name them. A wrong build with equal sums would need rows
    lost and doubled whose key hashes cancel exactly.

    The model reads the raw rows of the ids it retypes a moment after the
    record was written (another statement, another snapshot). An order the
    bot deletes or copies in that moment is then typed as the model saw it,
    and its count differs from the record's: a correct build would fail.
    So an id whose counts differ is not reported when its raw rows are no
    longer those the build read and are exactly those it typed (compared by
    version, as staging compares them: `raw_row_version`): the model typed
    the live rows, and the next build's record counts them as they are. An
    id written again since the model read it, or whose typed rows are not
    its raw rows, is still reported (the next build retypes it). All rows
    without an order id are one key here, so a write to any of them in that
    moment leaves their count unchecked for that build. Only the ids that
    already differ are looked up in the live and typed tables.
-#}
{% test every_raw_row_lands_once(model, raw, parts, read_by=none) %}
{%- set read = none -%}
{%- if execute and read_by is not none and not is_empty_build() -%}
    {%- set read = adapter.get_relation(read_by.database, read_by.schema, raw_orders_read_identifier(read_by)) -%}
{%- endif -%}
{%- set raw_keys -%}
    {%- if read is not none -%}
    select coalesce(order_key, '<null>') as order_key from {{ read }}
    {%- else -%}
    select coalesce(order_id::text, '<null>') as order_key from {{ raw }}
    {%- endif -%}
{%- endset -%}
{%- set part_keys -%}
    {%- for part in parts %}
    select coalesce(order_id, '<null>') as order_key from {{ part }}
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endset %}
-- `not materialized`: each side is read once for its sums and, only when
-- those differ, again per id; a materialized CTE would write it aside first.
with raw_keys as not materialized (
    {{ raw_keys }}
),

part_keys as not materialized (
    {{ part_keys }}
),

signed_keys as (
    -- Raw rows count +1, part rows -1: both sums are zero when the sides agree.
    select order_key, 1 as side from raw_keys
    union all
    select order_key, -1 as side from part_keys
),

sides_differ as (
    select
        coalesce(sum(side), 0) <> 0
        or coalesce(sum(side * hashtextextended(order_key, 0)::numeric), 0) <> 0 as differ
    from signed_keys
),

raw_counts as (
    select order_key, count(*) as raw_rows
    from raw_keys
    where (select differ from sides_differ)
    group by 1
),

part_counts as (
    select order_key, count(*) as part_rows
    from part_keys
    where (select differ from sides_differ)
    group by 1
),

counts_differ as (
    select coalesce(raw_counts.order_key, part_counts.order_key) as order_key, raw_rows, part_rows
    from raw_counts
    full outer join part_counts on raw_counts.order_key = part_counts.order_key
    where coalesce(raw_rows, 0) <> coalesce(part_rows, 0)
){%- if read is not none %},

versions_since_read as (
    -- Per id and raw row version: how many rows the build read, how many
    -- the raw table holds now, and how many the typed orders carry.
    select coalesce(order_key, '<null>') as order_key, raw_row_version, 1 as read_rows, 0 as live_rows, 0 as typed_rows
    from {{ read }}
    where coalesce(order_key, '<null>') in (select counts_differ.order_key from counts_differ)
    union all
    select coalesce(live.order_id::text, '<null>'), {{ raw_row_version('live', raw) }}, 0, 1, 0
    from {{ relation_as(raw, 'live') }}
    where coalesce(live.order_id::text, '<null>') in (select counts_differ.order_key from counts_differ)
    union all
    select coalesce(typed.order_id, '<null>'), typed.raw_row_version, 0, 0, 1
    from {{ relation_as(read_by, 'typed') }}
    where coalesce(typed.order_id, '<null>') in (select counts_differ.order_key from counts_differ)
),

versions_per_id as (
    select order_key, raw_row_version, sum(read_rows) as read_rows, sum(live_rows) as live_rows, sum(typed_rows) as typed_rows
    from versions_since_read
    group by order_key, raw_row_version
),

typed_as_written_since_read as (
    -- Written since the read, and typed exactly as the raw table holds it now.
    select order_key
    from versions_per_id
    group by order_key
    having bool_or(read_rows <> live_rows) and bool_and(live_rows = typed_rows)
){%- endif %}

select counts_differ.*
from counts_differ
{%- if read is not none %}
where counts_differ.order_key not in (select typed_as_written_since_read.order_key from typed_as_written_since_read)
{%- endif %}
{% endtest %}
