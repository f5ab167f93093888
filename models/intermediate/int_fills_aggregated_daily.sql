-- Fills up to `as_of`, counted and summed per UTC day and symbol: the one
-- aggregation daily_pnl (summed over symbols) and daily_symbol_pnl (on the
-- symbol calendar) both stand on, so the definition of a trade lives here.
with trades as (
    select * from {{ ref('fct_trades') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

history as (
    select window_end_at as as_of_at
    from windows
    where window_name = 'all'
),

fills_until_as_of as (
    select
        trades.*,
        {{ utc_date('trades.order_time') }} as date_day,
        -- A trade is a sell that closed inventory; a sell nothing covered
        -- (unmatched) has no result and is counted in allocation_health.
        trades.side = 'sell' and trades.matched_size > 0 as is_trade
    from trades
    inner join history on trades.order_time <= history.as_of_at
),

final as (
    select
        date_day,
        symbol,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where side = 'sell') as sells,
        count(*) filter (where is_trade) as trades,
        count(*) filter (where is_trade and realized_pnl_usd > 0) as wins,
        count(*) filter (where is_trade and realized_pnl_usd < 0) as losses,
        count(*) filter (where is_trade and realized_pnl_usd = 0) as breakevens,
        coalesce(sum(realized_pnl_usd) filter (where side = 'sell'), 0) as realized_pnl_usd,
        coalesce(sum(realized_pnl_usd) filter (where is_trade and realized_pnl_usd > 0), 0) as gross_profit_usd,
        coalesce(sum(realized_pnl_usd) filter (where is_trade and realized_pnl_usd < 0), 0) as gross_loss_usd,
        coalesce(sum(fees_usd), 0) as fees_usd,
        coalesce(sum(notional_usd) filter (where side = 'buy'), 0) as bought_usd,
        coalesce(sum(notional_usd) filter (where side = 'sell'), 0) as sold_usd
    from fills_until_as_of
    group by date_day, symbol
)

select * from final
