-- Buys, sells and realized P&L by what placed the order (webhook, websocket,
-- passive_mm...), up to `as_of`. P&L belongs to the sell's source: the sell
-- realizes it.

with windows as (
    select * from {{ ref('report_windows') }}
),

trades as (
    select * from {{ ref('fct_fills') }}
),

history as (
    select window_end_at as as_of_at
    from windows
    where window_name = 'all'
),

fills as (
    select trades.*
    from trades
    inner join history on trades.order_time <= history.as_of_at
),

final as (
    select
        source,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where side = 'sell') as sells,
        count(*) filter (where side = 'sell' and matched_size > 0) as trades,
        count(*) filter (where side = 'sell' and matched_size > 0 and realized_pnl_usd > 0) as wins,
        count(*) filter (where side = 'sell' and matched_size > 0 and realized_pnl_usd < 0) as losses,
        coalesce(sum(notional_usd) filter (where side = 'buy'), 0) as bought_usd,
        coalesce(sum(notional_usd) filter (where side = 'sell'), 0) as sold_usd,
        sum(fees_usd) as fees_usd,
        coalesce(sum(realized_pnl_usd) filter (where side = 'sell'), 0) as realized_pnl_usd
    from fills
    group by source
)

select * from final
