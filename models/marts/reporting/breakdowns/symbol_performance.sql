-- Per symbol and reporting window: trade results, fees, holding times and
-- what is still open. Every symbol with a fill up to `as_of` has a row in
-- every window, zeros where it did not trade. Holding times are over the
-- matched allocations (one lot-to-sell piece each); open size and cost
-- basis are the open lots of fct_buy_lots, the same in every window.

with windows as (
    select * from {{ ref('report_windows') }}
),

curve as (
    select * from {{ ref('equity_curve') }}
),

-- `not materialized`: read by two steps, this import would otherwise be
-- written aside whole (every column, every row) before either reads it.
trades as not materialized (
    select * from {{ ref('fct_fills') }}
),

allocations as (
    select * from {{ ref('fct_fifo_allocations') }}
),

lots as (
    select * from {{ ref('fct_buy_lots') }}
),

symbols as (
    select distinct trades.symbol
    from trades
    inner join windows on trades.order_time <= windows.window_end_at
    where windows.window_name = 'all'
),

window_symbols as (
    select
        windows.window_name,
        windows.window_order,
        windows.window_start_at,
        windows.window_end_at,
        symbols.symbol
    from windows
    cross join symbols
),

trade_stats as (
    select
        window_symbols.window_name,
        window_symbols.symbol,
        count(*) as trades,
        count(*) filter (where curve.is_win) as wins,
        count(*) filter (where curve.is_loss) as losses,
        count(*) filter (where not curve.is_win and not curve.is_loss) as breakevens,
        sum(curve.realized_pnl_usd) as realized_pnl_usd,
        coalesce(sum(curve.realized_pnl_usd) filter (where curve.is_win), 0) as gross_profit_usd,
        coalesce(sum(curve.realized_pnl_usd) filter (where curve.is_loss), 0) as gross_loss_usd
    from window_symbols
    inner join curve
        on
            window_symbols.symbol = curve.symbol
            and {{ in_window('window_symbols', 'curve.sell_time') }}
    group by window_symbols.window_name, window_symbols.symbol
),

fee_stats as (
    select
        window_symbols.window_name,
        window_symbols.symbol,
        sum(trades.fees_usd) as fees_usd
    from window_symbols
    inner join trades
        on
            window_symbols.symbol = trades.symbol
            and {{ in_window('window_symbols', 'trades.order_time') }}
    group by window_symbols.window_name, window_symbols.symbol
),

holding_stats as (
    select
        window_symbols.window_name,
        window_symbols.symbol,
        avg(allocations.holding_seconds) / 3600 as avg_holding_hours,
        percentile_cont(0.5) within group (order by allocations.holding_seconds) / 3600 as median_holding_hours
    from window_symbols
    inner join allocations
        on
            window_symbols.symbol = allocations.symbol
            and {{ in_window('window_symbols', 'allocations.sell_time') }}
    where not allocations.is_unmatched
    group by window_symbols.window_name, window_symbols.symbol
),

open_positions as (
    select
        symbol,
        count(*) as open_lots,
        sum(remaining_size) as open_size,
        sum(open_cost_basis_usd) as open_cost_basis_usd
    from lots
    where is_open
    group by symbol
),

final as (
    select
        window_symbols.window_name,
        window_symbols.window_order,
        window_symbols.symbol,
        coalesce(trade_stats.trades, 0) as trades,
        coalesce(trade_stats.wins, 0) as wins,
        coalesce(trade_stats.losses, 0) as losses,
        coalesce(trade_stats.breakevens, 0) as breakevens,
        {{ round_ratio(win_rate('trade_stats.wins', 'trade_stats.trades')) }} as win_rate,
        coalesce(trade_stats.gross_profit_usd, 0) as gross_profit_usd,
        coalesce(trade_stats.gross_loss_usd, 0) as gross_loss_usd,
        {{ round_ratio(profit_factor('trade_stats.gross_profit_usd', 'trade_stats.gross_loss_usd')) }}
            as profit_factor,
        coalesce(trade_stats.realized_pnl_usd, 0) as realized_pnl_usd,
        coalesce(fee_stats.fees_usd, 0) as fees_usd,
        trim_scale(holding_stats.avg_holding_hours) as avg_holding_hours,
        -- percentile_cont works in double precision; the median of seconds is
        -- a duration, not money, so the float is harmless here.
        holding_stats.median_holding_hours::numeric as median_holding_hours,
        coalesce(open_positions.open_lots, 0) as open_lots,
        coalesce(open_positions.open_size, 0) as open_size,
        coalesce(open_positions.open_cost_basis_usd, 0) as open_cost_basis_usd
    from window_symbols
    left join trade_stats
        on window_symbols.window_name = trade_stats.window_name and window_symbols.symbol = trade_stats.symbol
    left join fee_stats
        on window_symbols.window_name = fee_stats.window_name and window_symbols.symbol = fee_stats.symbol
    left join holding_stats
        on window_symbols.window_name = holding_stats.window_name and window_symbols.symbol = holding_stats.symbol
    left join open_positions on window_symbols.symbol = open_positions.symbol
)

select * from final
