-- Every fill up to `as_of` with its realized result: sells with their
-- trade's numbers (int_closed_trades), buys with what is left of them
-- (int_lot_balances). Named fct_trades until this release, which is kept as
-- a view of this table for one release (models/compat).
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config(appends='kept.order_time', append_replaces='order_id') }}
with fills as (
    -- An appended symbol keeps its rows but those of the lots open at the
    -- last build (replaced) and adds its new fills.
    {{ rows_to_compute_from(ref('stg_trading_bot__fills'), 'order_time', 'open_from', ref('int_fifo_allocations')) }}
),

closed_trades as (
    {{ rows_to_compute_from(ref('int_closed_trades'), 'sell_time', 'open_from', ref('int_fifo_allocations')) }}
),

lots as (
    -- The stored lots: fct_buy_lots adds only the moment they are measured at.
    {{ rows_to_compute_from(ref('int_lot_balances'), 'buy_time', 'open_from', ref('int_fifo_allocations')) }}
),

final as (
    select
        fills.order_id,
        fills.symbol,
        fills.side,
        fills.order_time,
        fills.size,
        fills.price,
        fills.fees_usd,
        fills.price * fills.size as notional_usd,
        fills.status,
        fills.source,
        fills.trigger_name,
        fills.order_type,
        closed_trades.matched_size,
        closed_trades.unmatched_size,
        closed_trades.cost_basis_usd,
        closed_trades.matched_proceeds_usd,
        closed_trades.matched_net_proceeds_usd,
        closed_trades.realized_pnl_usd,
        coalesce(closed_trades.lots_drawn, 0) as lots_drawn,
        closed_trades.oldest_lot_time,
        closed_trades.newest_lot_time,
        lots.remaining_size,
        lots.is_open
    from fills
    left join closed_trades on fills.order_id = closed_trades.sell_order_id
    left join lots on fills.order_id = lots.buy_order_id
    where {{ until_as_of('fills.order_time') }}
)

select * from final
