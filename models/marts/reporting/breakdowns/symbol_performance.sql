-- Per symbol and reporting window: trade results, fees, holding times and
-- what is still open. Every symbol with a fill up to `as_of` has a row in
-- every window, zeros where it did not trade. Holding times are over the
-- matched allocations (one lot-to-sell piece each); open size and cost
-- basis are the open lots of fct_buy_lots, the same in every window.

with windows as (
    select * from {{ ref('report_windows') }}
),

-- The daily measures per symbol: a window is whole UTC days up to `as_of`
-- (report_windows), so its counts and sums are sums of days, a few rows per
-- symbol instead of every trade and fill.
daily as (
    select * from {{ ref('int_fills_aggregated_daily') }}
),

allocations as (
    select * from {{ ref('fct_fifo_allocations') }}
),

whole_history_holding_times as (
    select * from {{ ref('int_holding_times_aggregated') }}
),

lots as (
    select * from {{ ref('fct_buy_lots') }}
),

symbols as (
    select distinct daily.symbol
    from daily
    inner join windows on daily.date_day <= windows.end_date
    where windows.window_name = 'all'
),

window_symbols as (
    select
        windows.window_name,
        windows.window_order,
        windows.window_days,
        windows.start_date,
        windows.end_date,
        windows.window_start_at,
        windows.window_end_at,
        symbols.symbol
    from windows
    cross join symbols
),

day_stats as (
    -- Days hold fills up to `as_of` only, and a window's last day ends there.
    select
        window_symbols.window_name,
        window_symbols.symbol,
        sum(daily.trades)::bigint as trades,
        sum(daily.wins)::bigint as wins,
        sum(daily.losses)::bigint as losses,
        sum(daily.breakevens)::bigint as breakevens,
        sum(daily.realized_pnl_usd) as realized_pnl_usd,
        sum(daily.gross_profit_usd) as gross_profit_usd,
        sum(daily.gross_loss_usd) as gross_loss_usd,
        sum(daily.fees_usd) as fees_usd
    from window_symbols
    inner join daily
        on
            window_symbols.symbol = daily.symbol
            and daily.date_day between window_symbols.start_date and window_symbols.end_date
    group by window_symbols.window_name, window_symbols.symbol
),

bounded_holding_times as (
    -- The bounded windows (window_days set) are the last days: only the
    -- allocations sold since the earliest of their starts are read and
    -- sorted. The whole history comes aggregated per symbol.
    select
        allocations.symbol,
        allocations.sell_time,
        allocations.sell_time - allocations.buy_time as holding_time
    from allocations
    where
        not allocations.is_unmatched
        and allocations.sell_time >= (
            select min(windows.window_start_at) from windows
            where windows.window_days is not null
        )
),

bounded_holding_stats as (
    select
        window_symbols.window_name,
        window_symbols.symbol,
        count(*) as matched_allocations,
        sum(bounded_holding_times.holding_time) as total_holding_time,
        percentile_cont(0.5) within group (order by bounded_holding_times.holding_time) as median_holding_time
    from window_symbols
    inner join bounded_holding_times
        on
            window_symbols.symbol = bounded_holding_times.symbol
            and {{ in_window('window_symbols', 'bounded_holding_times.sell_time') }}
    where window_symbols.window_days is not null
    group by window_symbols.window_name, window_symbols.symbol
),

holding_stats as (
    select * from bounded_holding_stats
    union all
    -- The whole-history window starts on the first fill's day and ends at
    -- as_of, where the allocations are cut: it holds every allocation.
    select
        window_symbols.window_name,
        window_symbols.symbol,
        whole_history_holding_times.matched_allocations,
        whole_history_holding_times.total_holding_time,
        whole_history_holding_times.median_holding_time
    from window_symbols
    inner join whole_history_holding_times on window_symbols.symbol = whole_history_holding_times.symbol
    where window_symbols.window_days is null
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
        coalesce(day_stats.trades, 0) as trades,
        coalesce(day_stats.wins, 0) as wins,
        coalesce(day_stats.losses, 0) as losses,
        coalesce(day_stats.breakevens, 0) as breakevens,
        {{ round_ratio(win_rate('day_stats.wins', 'day_stats.trades')) }} as win_rate,
        coalesce(day_stats.gross_profit_usd, 0) as gross_profit_usd,
        coalesce(day_stats.gross_loss_usd, 0) as gross_loss_usd,
        {{ round_ratio(profit_factor('day_stats.gross_profit_usd', 'day_stats.gross_loss_usd')) }}
            as profit_factor,
        coalesce(day_stats.realized_pnl_usd, 0) as realized_pnl_usd,
        coalesce(day_stats.fees_usd, 0) as fees_usd,
        -- Seconds are exact (extract gives numeric); the mean is their
        -- numeric average, as avg() of each holding's seconds would give.
        trim_scale(
            extract(epoch from holding_stats.total_holding_time) / holding_stats.matched_allocations / 3600
        ) as avg_holding_hours,
        trim_scale(extract(epoch from holding_stats.median_holding_time) / 3600) as median_holding_hours,
        coalesce(open_positions.open_lots, 0) as open_lots,
        coalesce(open_positions.open_size, 0) as open_size,
        coalesce(open_positions.open_cost_basis_usd, 0) as open_cost_basis_usd
    from window_symbols
    left join day_stats
        on window_symbols.window_name = day_stats.window_name and window_symbols.symbol = day_stats.symbol
    left join holding_stats
        on window_symbols.window_name = holding_stats.window_name and window_symbols.symbol = holding_stats.symbol
    left join open_positions on window_symbols.symbol = open_positions.symbol
)

select * from final
