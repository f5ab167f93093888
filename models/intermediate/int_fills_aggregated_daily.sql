-- Fills up to `as_of`, counted and summed per UTC day and symbol: the one
-- aggregation daily_pnl (summed over symbols) and daily_symbol_pnl (on the
-- symbol calendar) both stand on. What a trade is, and its result, comes
-- from int_closed_trades.
-- Incremental by symbol like the FIFO models (macros/incremental_by_symbol.sql):
-- a symbol's days depend on its own fills only.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }} {{ where_symbol_changed() }}
),

closed_trades as (
    select * from {{ ref('int_closed_trades') }} {{ where_symbol_changed() }}
),

fills_until_as_of as (
    select
        fills.symbol,
        fills.side,
        fills.fees_usd,
        fills.price * fills.size as notional_usd,
        {{ utc_date('fills.order_time') }} as date_day,
        coalesce(closed_trades.is_closed_trade, false) as is_trade,
        closed_trades.outcome,
        closed_trades.realized_pnl_usd
    from fills
    left join closed_trades on fills.order_id = closed_trades.sell_order_id
    where {{ until_as_of('fills.order_time') }}
),

final as (
    select
        date_day,
        symbol,
        {{ daily_measures_of_fills() }}
    from fills_until_as_of
    group by date_day, symbol
)

select * from final
