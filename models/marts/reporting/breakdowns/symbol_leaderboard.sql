-- Symbols ranked by realized P&L over the last 7 and 30 days (rank 1 is the
-- best), for the dashboard's leaderboard. Only symbols that traded in the
-- window are ranked; ties go by symbol so that ranks are stable.

with symbol_performance as (
    select * from {{ ref('symbol_performance') }}
),

traded as (
    select * from symbol_performance
    where window_name in ('7d', '30d') and trades > 0
),

ranked as (
    select
        *,
        row_number() over (partition by window_name order by realized_pnl_usd desc, symbol asc) as pnl_rank,
        count(*) over (partition by window_name) as ranked_symbols
    from traded
),

final as (
    select
        window_name,
        pnl_rank,
        -- The mirror of pnl_rank, so that ties read the same from both ends.
        ranked_symbols - pnl_rank + 1 as pnl_rank_from_bottom,
        ranked_symbols,
        symbol,
        realized_pnl_usd,
        trades,
        wins,
        losses,
        win_rate,
        profit_factor,
        fees_usd
    from ranked
)

select * from final
