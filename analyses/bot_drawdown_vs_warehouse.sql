-- The bot's own maximum drawdown query beside the warehouse's, on the same
-- trades, to show what its two mistakes cost: (1) the running peak starts at
-- the first trade, so a loss before any gain is no drawdown; (2) the running
-- sum is ordered by time alone, whose default RANGE frame gives sells at one
-- timestamp one shared cumulative value. `dbt compile` renders it; run the
-- compiled SQL to compare.
with curve as (
    select * from {{ ref('equity_curve') }}
),

drawdowns as (
    select * from {{ ref('drawdowns') }}
),

bot_cumulative as (
    select
        sell_time,
        -- The bot's frame: every sell at the same time gets the same sum.
        sum(realized_pnl_usd) over (order by sell_time) as cumulative_pnl_usd
    from curve
),

bot_peaks as (
    select
        cumulative_pnl_usd,
        -- The bot's peak: only from the first trade on.
        max(cumulative_pnl_usd) over (order by sell_time) as peak_pnl_usd
    from bot_cumulative
),

bot_result as (
    select min(cumulative_pnl_usd - peak_pnl_usd) as bot_max_drawdown_usd
    from bot_peaks
),

final as (
    select
        bot_result.bot_max_drawdown_usd,
        drawdowns.max_drawdown_usd as warehouse_max_drawdown_usd,
        drawdowns.max_drawdown_usd - bot_result.bot_max_drawdown_usd as understatement_usd
    from bot_result
    cross join drawdowns
    where drawdowns.window_name = 'all'
)

select * from final
