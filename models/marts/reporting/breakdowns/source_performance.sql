-- Buys, sells and realized P&L by what placed the order (webhook, websocket,
-- passive_mm...), up to `as_of` (where fct_fills ends). P&L belongs to the
-- sell's source: the sell realizes it. The win rate is the project's
-- (trade_outcome.sql), over the source's closed trades.

with fills as (
    select * from {{ ref('fct_fills') }}
),

scored as (
    select
        *,
        {{ trade_outcome('realized_pnl_usd', 'matched_size') }} as outcome
    from fills
),

final as (
    select
        source,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where side = 'sell') as sells,
        count(outcome) as trades,
        count(*) filter (where outcome = 'win') as wins,
        count(*) filter (where outcome = 'loss') as losses,
        {{ round_ratio(win_rate("count(*) filter (where outcome = 'win')", 'count(outcome)')) }} as win_rate,
        coalesce(sum(notional_usd) filter (where side = 'buy'), 0) as bought_usd,
        coalesce(sum(notional_usd) filter (where side = 'sell'), 0) as sold_usd,
        sum(fees_usd) as fees_usd,
        coalesce(sum(realized_pnl_usd) filter (where side = 'sell'), 0) as realized_pnl_usd
    from scored
    group by source
)

select * from final
