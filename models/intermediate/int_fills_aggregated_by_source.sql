-- Per symbol and source (what placed the order: webhook, websocket,
-- passive_mm...), the fills up to `as_of` counted and summed: what
-- source_performance adds up over the symbols. P&L belongs to the sell's
-- source (the sell realizes it); a trade is a sell that closed inventory,
-- scored as every mart scores it (trade_outcome.sql).
-- Incremental by symbol: summed at every build from every fill (1M at 1M
-- fills), the mart cost 0.7-1.1 s of each five-minute build.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }} {{ where_symbol_changed() }}
),

closed_trades as (
    select * from {{ ref('int_closed_trades') }} {{ where_symbol_changed() }}
),

fills_scored as (
    select
        fills.symbol,
        fills.source,
        fills.side,
        fills.price * fills.size as notional_usd,
        fills.fees_usd,
        closed_trades.realized_pnl_usd,
        {{ trade_outcome('closed_trades.realized_pnl_usd', 'closed_trades.matched_size') }} as outcome
    from fills
    left join closed_trades on fills.order_id = closed_trades.sell_order_id
    where {{ until_as_of('fills.order_time') }}
),

final as (
    select
        symbol,
        source,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where side = 'sell') as sells,
        count(outcome) as trades,
        count(*) filter (where outcome = 'win') as wins,
        count(*) filter (where outcome = 'loss') as losses,
        coalesce(sum(notional_usd) filter (where side = 'buy'), 0) as bought_usd,
        coalesce(sum(notional_usd) filter (where side = 'sell'), 0) as sold_usd,
        sum(fees_usd) as fees_usd,
        coalesce(sum(realized_pnl_usd) filter (where side = 'sell'), 0) as realized_pnl_usd
    from fills_scored
    group by symbol, source
)

select * from final
