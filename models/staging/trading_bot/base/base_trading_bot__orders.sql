-- Every raw order, typed and normalised, with the reason it cannot be trusted
-- (null when it can). The fills, non-fill and quarantine models are filters of
-- this one, so each raw row lands in exactly one of them.
-- A table with fresh statistics, not a view: the planner misjudges the
-- filters on the derived reason by orders of magnitude, and FIFO's joins then
-- pick nested loops (minutes instead of seconds at 100k fills).
-- Incremental by order id (macros/incremental_by_order.sql): a scheduled
-- build retypes only the order ids whose raw rows changed.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_orders',
    on_schema_change='append_new_columns',
    pre_hook=["{{ fix_changed_order_ids(source('trading_bot', 'trade_records')) }}"],
    post_hook=[
        "{{ ensure_index(['symbol', 'order_time']) }}",
        "{{ ensure_index('order_id') }}",
        "{{ ensure_index('rejection_reason', where='rejection_reason is not null') }}",
        '{{ analyze_after_retyping() }}'
    ]
) }}
{%- set raw_table = source('trading_bot', 'trade_records') %}
{%- set version = raw_row_version('trade_records', raw_table) %}
with raw_orders as (
    {%- for rows_to_type in raw_rows_to_type('trade_records.order_id', version) %}
        {%- if not loop.first %}
        union all
        {%- endif %}
        select
            trade_records.*,
            -- Copies are grouped by the id's text, as the incremental build
            -- selects and replaces them (ids of a numeric or case-blind type that
            -- are equal with different texts stay apart everywhere).
            trade_records.order_id::text as order_key,
            -- What tells copies of one id apart (the rows only ever retyped).
            md5(trade_records::text) as raw_row_hash,
            -- What the next incremental build compares.
            {{ version }} as raw_row_version
        from {{ relation_as(raw_table, 'trade_records') }}
        {{ rows_to_type }}
    {%- endfor %}
),

repeated_order_ids as (
    -- A raw table without its primary key can hold an order id twice.
    -- Identical copies keep one row; copies that disagree are all
    -- untrustworthy. Only repeated ids are numbered: with the key in place
    -- (the usual case) that is no row at all.
    select order_key
    from raw_orders
    group by order_key
    having count(*) > 1
),

repeated_copies as (
    select
        raw_orders.*,
        row_number() over copies_of_id as copy_number,
        -- postgres has no count(distinct) window; equal min and max hashes
        -- mean every copy is the same row.
        min(raw_orders.raw_row_hash) over (partition by raw_orders.order_key)
        <> max(raw_orders.raw_row_hash) over (partition by raw_orders.order_key) as copies_disagree
    from raw_orders
    inner join repeated_order_ids on raw_orders.order_key = repeated_order_ids.order_key
    window copies_of_id as (partition by raw_orders.order_key order by raw_orders.order_time)
),

single_copies as (
    select
        raw_orders.*,
        1::bigint as copy_number,
        false as copies_disagree
    from raw_orders
    left join repeated_order_ids on raw_orders.order_key = repeated_order_ids.order_key
    where repeated_order_ids.order_key is null
),

copies_per_order_id as (
    select * from single_copies
    union all
    select * from repeated_copies
),

-- `materialized`: every later step reads these columns several times, and
-- PostgreSQL would otherwise inline the clean-up (regular expressions) and
-- the reason (a long case) at each reference: 45 s instead of 12 s at 1M rows.
normalised as materialized (
    select
        order_id::text as order_id,
        copy_number,
        copies_disagree,
        {{ normalise_symbol('symbol') }} as symbol,
        {{ clean_code('side') }} as side,
        order_time,
        -- Only a missing status is a legacy fill; an empty one is unknown.
        case when status is null then 'legacy_fill' else coalesce({{ clean_code('status') }}, '') end as status,
        status is null as is_legacy_status,
        coalesce({{ clean_label('source') }}, 'unknown') as source,
        {{ clean_label(trigger_text('trigger')) }} as trigger_name,
        {{ clean_label('order_type') }} as order_type,
        price as price_float,
        size as size_float,
        total_fees_usd as fees_float,
        parent_id::text as legacy_parent_id,
        pnl_usd as legacy_pnl_usd,
        realized_profit as legacy_realized_profit,
        cost_basis_usd as legacy_cost_basis_usd,
        raw_row_hash,
        raw_row_version
    from copies_per_order_id
),

classified as (
    select
        *,
        case
            when is_legacy_status or status in ({{ quoted_list(var('fill_statuses')) }}) then 'fill'
            when status in ({{ quoted_list(var('non_fill_statuses')) }}) then 'non_fill'
            when status in ({{ quoted_list(var('partial_fill_statuses')) }}) then 'partial_fill'
            else 'unknown'
        end as status_class
    from normalised
),

with_reason as materialized (
    select
        *,
        case
            when order_id is null or trim(order_id) = '' then 'missing_order_id'
            when copies_disagree then 'conflicting_duplicate_order_id'
            when copy_number > 1 then 'duplicate_order_id'
            -- A status nobody declared is neither silently a fill nor silently
            -- not one: the operator adds it to a status variable.
            when status_class = 'unknown' then 'unknown_status'
            -- trade_records has no filled-size column, so the part of a
            -- partially filled order that filled cannot be known.
            when status_class = 'partial_fill' then 'partial_fill_size_unknown'
            -- A time no calendar can start from stops every daily mart, for
            -- non-fills too (order-flow views read them).
            when order_time < '{{ var("earliest_order_time") }}'::timestamptz then 'order_time_before_earliest'
            when order_time > now() + interval '{{ var("future_tolerance_minutes") }} minutes'
                then 'future_order_time'
            -- Value checks apply to fills only: a cancelled order with no
            -- price is normal and never reaches FIFO anyway.
            when status_class = 'non_fill' then null
            when symbol is null then 'missing_symbol'
            when side is null or side not in ('buy', 'sell') then 'unknown_side'
            when order_time is null then 'missing_order_time'
            when {{ is_not_finite_positive('size_float') }} then 'invalid_size'
            when {{ is_not_finite_positive('price_float') }} then 'invalid_price'
            when
                fees_float is not null
                and (fees_float < 0 or fees_float in ('NaN', 'Infinity'))
                then 'invalid_fees'
            -- Magnitudes no market has: 1e308 would make a 700-digit P&L, a
            -- denormal a 300-digit size. Bounds are project variables.
            when {{ is_outside('size_float', 'min_size', 'max_size') }} then 'size_out_of_range'
            when {{ is_outside('price_float', 'min_price', 'max_price') }} then 'price_out_of_range'
            -- Both factors are bounded above, so the float product cannot overflow.
            when price_float * size_float > {{ var('max_notional_usd') }}::float8 then 'notional_out_of_range'
            when fees_float > {{ var('max_fee_share_of_notional') }}::float8 * price_float * size_float
                then 'fees_above_notional_share'
        end as rejection_reason
    from classified
),

typed as (
    select
        order_id,
        symbol,
        side,
        order_time,
        status,
        status_class = 'fill' as is_fill,
        source,
        trigger_name,
        order_type,
        -- float8 -> numeric keeps 15 significant digits, which drops binary
        -- residue such as 0.30000000000000004; the cast only runs on rows that
        -- passed the checks above, so NaN and infinity never reach it.
        case when rejection_reason is null then size_float::numeric end as size,
        case when rejection_reason is null then price_float::numeric end as price,
        case when rejection_reason is null then coalesce(fees_float, 0)::numeric end as fees_usd,
        size_float,
        price_float,
        fees_float,
        legacy_parent_id,
        legacy_pnl_usd,
        legacy_realized_profit,
        legacy_cost_basis_usd,
        rejection_reason,
        raw_row_hash,
        raw_row_version,
        '{{ staging_build_fingerprint() }}'::text as build_fingerprint
    from with_reason
),

final as (
    select
        *,
        -- What int_fill_fingerprints sums per symbol: a hash of everything a
        -- fill says, computed here once per typed row rather than for every
        -- fill at every build (0.6 s a build at 1M fills). A row's text
        -- keeps each field in its place and tells null from empty (concat_ws
        -- skipped nulls: a value moving from pnl_usd to realized_profit hashed the same).
        hashtextextended(row(
            order_id, side, order_time, size, price, fees_usd, status, source, trigger_name, order_type,
            legacy_parent_id, legacy_pnl_usd, legacy_realized_profit, legacy_cost_basis_usd
        )::text, 0) as fill_hash
    from typed
    -- Rows of one symbol lie together, as every later model reads them: a
    -- build that recomputes a few symbols reads their pages by the symbol
    -- index (macros/table_indexes.sql) instead of the whole table.
    order by symbol collate "C", order_time
)

select * from final
