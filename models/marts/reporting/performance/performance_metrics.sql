-- One row per reporting window with the bot's headline figures, each defined
-- once here:
--   per-trade Sharpe: mean / sample stdev of per-trade realized P&L (the bot's
--     own figure, not annualised);
--   daily Sharpe: mean(r) / sample stdev(r) * sqrt(365), r the daily returns
--     in excess of the daily risk-free rate, every calendar day of the window;
--   daily Sortino: mean(r) / sqrt(sum(min(r, 0)^2) / n) * sqrt(365), n every
--     day of the window (QuantStats and empyrical);
--   win rate, profit factor, expectancy and average win over average loss on
--     the window's trades.
-- Whatever has no defined value (no trades, one trade or day, zero deviation,
-- no losses) is null rather than a division error. 365 days: crypto trades
-- every day of the year.

with windows as (
    select * from {{ ref('report_windows') }}
),

daily as (
    select * from {{ ref('daily_pnl') }}
),

curve as (
    select * from {{ ref('equity_curve') }}
),

drawdowns as (
    select * from {{ ref('drawdowns') }}
),

window_returns as (
    select
        windows.window_name,
        daily.date_day,
        daily.fees_usd,
        -- The exact return, not daily_pnl's rounded one.
        {{ daily_return('daily.realized_pnl_usd', 'daily.equity_start_usd') }} - {{ daily_risk_free_rate() }}
            as excess_return
    from windows
    inner join daily on daily.date_day between windows.start_date and windows.end_date
),

daily_stats as (
    select
        window_name,
        count(*) as return_days,
        sum(fees_usd) as fees_usd,
        avg(excess_return) as mean_daily_return,
        stddev_samp(excess_return) as stdev_daily_return,
        sqrt(
            sum(least(excess_return, 0) * least(excess_return, 0)) / nullif(count(excess_return), 0)
        ) as downside_deviation
    from window_returns
    group by window_name
),

window_trades as (
    select
        windows.window_name,
        curve.realized_pnl_usd,
        curve.is_win,
        curve.is_loss
    from windows
    inner join curve on {{ in_window('windows', 'curve.sell_time') }}
),

trade_stats as (
    select
        window_name,
        count(*) as trades,
        count(*) filter (where is_win) as wins,
        count(*) filter (where is_loss) as losses,
        count(*) filter (where not is_win and not is_loss) as breakevens,
        sum(realized_pnl_usd) as realized_pnl_usd,
        coalesce(sum(realized_pnl_usd) filter (where is_win), 0) as gross_profit_usd,
        coalesce(sum(realized_pnl_usd) filter (where is_loss), 0) as gross_loss_usd,
        avg(realized_pnl_usd) as mean_trade_pnl_usd,
        stddev_samp(realized_pnl_usd) as stdev_trade_pnl_usd,
        avg(realized_pnl_usd) filter (where is_win) as avg_win_usd,
        avg(realized_pnl_usd) filter (where is_loss) as avg_loss_usd
    from window_trades
    group by window_name
),

final as (
    select
        windows.window_name,
        windows.window_order,
        windows.start_date,
        windows.end_date,
        windows.window_start_at,
        windows.window_end_at,
        coalesce(daily_stats.return_days, 0) as return_days,
        coalesce(trade_stats.trades, 0) as trades,
        coalesce(trade_stats.wins, 0) as wins,
        coalesce(trade_stats.losses, 0) as losses,
        coalesce(trade_stats.breakevens, 0) as breakevens,
        coalesce(trade_stats.realized_pnl_usd, 0) as realized_pnl_usd,
        coalesce(trade_stats.gross_profit_usd, 0) as gross_profit_usd,
        coalesce(trade_stats.gross_loss_usd, 0) as gross_loss_usd,
        coalesce(daily_stats.fees_usd, 0) as fees_usd,
        -- Ratios to 6 decimals and mean money to the cent, each computed from
        -- exact inputs and rounded only here.
        {{ round_ratio(win_rate('trade_stats.wins', 'trade_stats.trades')) }} as win_rate,
        {{ round_ratio(profit_factor('trade_stats.gross_profit_usd', 'trade_stats.gross_loss_usd')) }}
            as profit_factor,
        {{ round_usd('trade_stats.mean_trade_pnl_usd') }} as expectancy_usd,
        {{ round_usd('trade_stats.avg_win_usd') }} as avg_win_usd,
        {{ round_usd('trade_stats.avg_loss_usd') }} as avg_loss_usd,
        {{ round_ratio('trade_stats.avg_win_usd / nullif(-trade_stats.avg_loss_usd, 0)') }} as win_loss_ratio,
        {{ round_ratio('trade_stats.mean_trade_pnl_usd / nullif(trade_stats.stdev_trade_pnl_usd, 0)') }}
            as sharpe_per_trade,
        {{ round_ratio('daily_stats.mean_daily_return') }} as mean_daily_return,
        {{ round_ratio('daily_stats.stdev_daily_return') }} as stdev_daily_return,
        {{ round_ratio('daily_stats.downside_deviation') }} as downside_deviation,
        {{ round_ratio(
            'daily_stats.mean_daily_return / nullif(daily_stats.stdev_daily_return, 0) * sqrt(365::numeric)'
        ) }} as sharpe_daily,
        {{ round_ratio(
            'daily_stats.mean_daily_return / nullif(daily_stats.downside_deviation, 0) * sqrt(365::numeric)'
        ) }} as sortino_daily,
        drawdowns.max_drawdown_usd,
        drawdowns.max_drawdown_pct,
        drawdowns.peak_at as max_drawdown_peak_at,
        drawdowns.trough_at as max_drawdown_trough_at
    from windows
    left join daily_stats on windows.window_name = daily_stats.window_name
    left join trade_stats on windows.window_name = trade_stats.window_name
    left join drawdowns on windows.window_name = drawdowns.window_name
)

select * from final
