-- The legacy-P&L detector: per sell fill, the bot's own realized_profit /
-- pnl_usd and parent lot beside the FIFO result. The legacy matcher priced
-- every sell against a parent lot whatever earlier sells had already taken
-- from it; legacy_parent_exhausted flags sells whose parent was used up by
-- earlier sells (FIFO order) before this one, the incident's signature.
-- Legacy columns are floats written by a broken matcher: they are read as
-- numeric here only to be compared, never trusted.
-- Incremental by symbol (macros/incremental_by_symbol.sql), with one more
-- rule: a sell's row also depends on its legacy parent, which the bot may
-- have taken from another symbol (or which may be missing). Such a sell is
-- recomputed when its parent's symbol changes, or, with its parent missing,
-- when a changed symbol has a fill of the parent's id
-- (legacy_sells_to_recompute); a parent within the sell's own symbol
-- changes that symbol's fingerprint.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
{{ config(
    unique_key='sell_order_id',
    post_hook=["{{ ensure_index('legacy_parent_symbol', where=legacy_parent_elsewhere()) }}"]
) }}

-- `not materialized`: fills and allocations are each read by several steps,
-- which would otherwise make PostgreSQL write the whole table aside first
-- (every fill and allocation, 4.5 s at 1M fills) when an incremental build
-- needs only the changed symbols' sells and the allocations that touch them.
with fills as not materialized (
    select * from {{ ref('stg_trading_bot__fills') }}
),

trades as (
    select * from {{ ref('fct_fills') }}
),

allocations as not materialized (
    select * from {{ ref('fct_fifo_allocations') }}
),

lots as (
    select * from {{ ref('int_lot_balances') }}
),

{% set kept_rows_usable = legacy_kept_rows_usable() -%}
{% if kept_rows_usable -%}
kept_sells_to_recompute as (
    {{ legacy_kept_sells_to_recompute('fills', this) }}
),

{% endif -%}
sells_to_compute as (
    {{ legacy_sells_to_recompute('fills', 'kept_sells_to_recompute' if kept_rows_usable else none) }}
),

sells_of_changed_symbols as (
    select * from sells_to_compute
    where not fifo_from_kept_row
),

trades_of_sells as (
    select * from trades
    {% if is_incremental() %}
    -- The trades of the changed symbols only, by the symbol index: joined
    -- whole, every fill of the mart was hashed at every build.
    where symbol = any(array(select distinct sells_of_changed_symbols.symbol from sells_of_changed_symbols))
    {% endif %}
),

fifo_sides as (
    -- FIFO's side of a sell: its trade; or, for a sell recomputed for its
    -- parent alone, its kept row's, since its own symbol did not change
    -- (reading the FIFO marts of every symbol some parent lies in cost most
    -- of a five-minute build).
    select
        order_id as sell_order_id,
        false as from_kept_row,
        matched_size,
        unmatched_size,
        realized_pnl_usd as fifo_pnl_usd,
        null::text as kept_fifo_buy_order_ids,
        null::timestamptz as kept_oldest_fifo_lot_time
    from trades_of_sells
    {%- if kept_rows_usable %}
    union all
    select
        sell_order_id,
        true as from_kept_row,
        matched_size,
        unmatched_size,
        fifo_pnl_usd,
        fifo_buy_order_ids as kept_fifo_buy_order_ids,
        oldest_fifo_lot_time as kept_oldest_fifo_lot_time
    from kept_sells_to_recompute
    {%- endif %}
),

sells as (
    select
        sells_to_compute.order_id as sell_order_id,
        sells_to_compute.symbol,
        sells_to_compute.order_time as sell_time,
        sells_to_compute.size as sell_size,
        sells_to_compute.legacy_parent_id,
        sells_to_compute.legacy_realized_profit::numeric as legacy_realized_profit_usd,
        sells_to_compute.legacy_pnl_usd::numeric as legacy_pnl_usd,
        fifo_sides.matched_size,
        fifo_sides.unmatched_size,
        fifo_sides.fifo_pnl_usd,
        fifo_sides.kept_fifo_buy_order_ids,
        fifo_sides.kept_oldest_fifo_lot_time
    from sells_to_compute
    -- A sell without a trade (after `as_of`) has no row.
    inner join fifo_sides
        on
            sells_to_compute.order_id = fifo_sides.sell_order_id
            and sells_to_compute.fifo_from_kept_row = fifo_sides.from_kept_row
),

fifo_lots_per_sell as (
    select
        sell_order_id,
        string_agg(buy_order_id, ',' order by buy_time, buy_order_id) as fifo_buy_order_ids,
        min(buy_time) as oldest_fifo_lot_time
    from allocations
    where
        not is_unmatched
        and sell_order_id in (select sells_of_changed_symbols.order_id from sells_of_changed_symbols)
    {% if is_incremental() %}
        -- A sell's allocations carry its symbol: read by the symbol index.
        and symbol = any(array(select distinct sells_of_changed_symbols.symbol from sells_of_changed_symbols))
    {% endif %}
    group by sell_order_id
),

legacy_parents as (
    select
        order_id as parent_order_id,
        symbol as parent_symbol,
        side as parent_side,
        order_time as parent_time,
        size as parent_size
    from fills
    {% if is_incremental() %}
    -- By the order id index: PostgreSQL expects a handful of parents and
    -- would hash every fill for them.
    where order_id = any(array(select distinct sells.legacy_parent_id from sells))
    {% else %}
        where order_id in (select sells.legacy_parent_id from sells)
    {% endif %}
),

parent_lots as (
    -- The legacy parents that sells drew on, with the span of sell times
    -- their allocations lie in (a sell id names no lot).
    select
        buy_order_id,
        symbol,
        first_sell_time,
        last_sell_time
    from lots
    -- A semi join: `= any(array(...))` would compare each lot with every
    -- parent (no index on the lot id; 80 s for 15k parents at 1M fills).
    where sells_drawn > 0 and buy_order_id in (select sells.legacy_parent_id from sells)
),

parent_pieces as (
    select
        parent_lots.buy_order_id,
        lot_pieces.sell_time,
        lot_pieces.sell_order_id,
        lot_pieces.allocated_size
    from parent_lots
    {% if is_incremental() %}
    -- Each parent's pieces by the allocations' (symbol, sell_time) index,
    -- over the parent's own span of sells. Read by the parents' symbols,
    -- the 1% of parents the old matcher took from another symbol made a
    -- five-minute build read most symbols' allocations (0.6M rows at 1M
    -- fills, 0.7 s) to find a few thousand pieces. The `offset 0` is a
    -- fence, not a limit: flattened into a join, the lookup became a hash
    -- join of every lot with every allocation (1.5 s).
    cross join lateral (
        select
            allocations.sell_time,
            allocations.sell_order_id,
            allocations.allocated_size
        from allocations
        where
            allocations.symbol = parent_lots.symbol
            and allocations.sell_time between parent_lots.first_sell_time and parent_lots.last_sell_time
            and allocations.buy_order_id = parent_lots.buy_order_id
        offset 0  -- noqa: AM09
    ) as lot_pieces
    {% else %}
        inner join allocations as lot_pieces on parent_lots.buy_order_id = lot_pieces.buy_order_id
    {% endif %}
),

parent_use_before_sell as (
    -- What sells earlier in FIFO order (time, then order id) took from the
    -- legacy parent before this sell came.
    select
        sells.sell_order_id,
        sum(parent_pieces.allocated_size) as parent_used_before
    from sells
    inner join parent_pieces
        on
            sells.legacy_parent_id = parent_pieces.buy_order_id
            and (sells.sell_time, sells.sell_order_id) > (parent_pieces.sell_time, parent_pieces.sell_order_id)
    group by sells.sell_order_id
),

compared as (
    select
        sells.sell_order_id,
        sells.symbol,
        sells.sell_time,
        sells.sell_size,
        sells.legacy_parent_id,
        sells.legacy_realized_profit_usd,
        sells.legacy_pnl_usd,
        sells.matched_size,
        sells.unmatched_size,
        sells.fifo_pnl_usd,
        coalesce(sells.legacy_realized_profit_usd, sells.legacy_pnl_usd) as legacy_result_usd,
        -- One of the two is set: a sell's lots come from the allocations or its kept row.
        coalesce(fifo_lots_per_sell.fifo_buy_order_ids, sells.kept_fifo_buy_order_ids) as fifo_buy_order_ids,
        coalesce(fifo_lots_per_sell.oldest_fifo_lot_time, sells.kept_oldest_fifo_lot_time) as oldest_fifo_lot_time,
        legacy_parents.parent_order_id is not null as legacy_parent_found,
        legacy_parents.parent_symbol as legacy_parent_symbol,
        legacy_parents.parent_time as legacy_parent_time,
        legacy_parents.parent_size as legacy_parent_size,
        legacy_parents.parent_size - coalesce(parent_use_before_sell.parent_used_before, 0)
            as legacy_parent_remaining_before_sell,
        legacy_parents.parent_side = 'buy' as legacy_parent_is_buy
    from sells
    left join fifo_lots_per_sell on sells.sell_order_id = fifo_lots_per_sell.sell_order_id
    left join legacy_parents on sells.legacy_parent_id = legacy_parents.parent_order_id
    left join parent_use_before_sell on sells.sell_order_id = parent_use_before_sell.sell_order_id
),

final as (
    select
        sell_order_id,
        symbol,
        sell_time,
        sell_size,
        matched_size,
        unmatched_size,
        legacy_parent_id,
        legacy_parent_found,
        legacy_parent_symbol,
        legacy_parent_time,
        legacy_parent_size,
        legacy_parent_remaining_before_sell,
        legacy_realized_profit_usd,
        legacy_pnl_usd,
        legacy_result_usd,
        fifo_pnl_usd,
        fifo_buy_order_ids,
        oldest_fifo_lot_time,
        legacy_result_usd - fifo_pnl_usd as difference_usd,
        abs(legacy_result_usd - fifo_pnl_usd) as abs_difference_usd,
        {{ round_ratio('legacy_result_usd / nullif(fifo_pnl_usd, 0)') }} as legacy_to_fifo_ratio,
        -- More than a cent apart: rounding of the bot's floats is not a discrepancy.
        coalesce(abs(legacy_result_usd - fifo_pnl_usd) > 0.01, false) as has_discrepancy,
        coalesce(
            legacy_parent_is_buy and legacy_parent_remaining_before_sell < {{ var('fifo_dust') }}, false
        ) as legacy_parent_exhausted,
        coalesce(legacy_parent_time > sell_time, false) as legacy_parent_after_sell,
        legacy_parent_id is not null and not legacy_parent_found as legacy_parent_missing,
        coalesce(
            legacy_parent_id is not null
            and (',' || fifo_buy_order_ids || ',') not like ('%,' || legacy_parent_id || ',%'),
            legacy_parent_id is not null
        ) as legacy_parent_not_in_fifo
    from compared
)

select * from final
