-- Buys, sells and realized P&L by what placed the order (webhook, websocket,
-- passive_mm...), up to `as_of`: the per-symbol figures of
-- int_fills_aggregated_by_source added up over the symbols. P&L belongs to
-- the sell's source: the sell realizes it. The win rate is the project's
-- (trade_outcome.sql), over the source's closed trades.

with symbol_sources as (
    select * from {{ ref('int_fills_aggregated_by_source') }}
),

final as (
    select
        source,
        sum(buys)::bigint as buys,
        sum(sells)::bigint as sells,
        sum(trades)::bigint as trades,
        sum(wins)::bigint as wins,
        sum(losses)::bigint as losses,
        {{ round_ratio(win_rate('sum(wins)', 'sum(trades)')) }} as win_rate,
        sum(bought_usd) as bought_usd,
        sum(sold_usd) as sold_usd,
        sum(fees_usd) as fees_usd,
        sum(realized_pnl_usd) as realized_pnl_usd
    from symbol_sources
    group by source
)

select * from final
