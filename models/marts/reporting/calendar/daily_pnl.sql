-- Realized P&L, fees and trade counts per UTC day on a full calendar, from
-- the first fill's day to the day of `as_of`: days without fills are rows of
-- zeros, so that daily returns count every day. Equity at the start of a day
-- is the starting equity plus all realized P&L before it; the daily return is
-- the day's realized P&L over that equity (project variable
-- `starting_equity_usd`).

with fills_per_symbol_day as (
    select * from {{ ref('int_fills_aggregated_daily') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

history as (
    select
        start_date,
        end_date
    from windows
    where window_name = 'all'
),

calendar as (
    -- Integer offsets rather than a timestamp series: no time zone can shift a day.
    select history.start_date + day_offset as date_day
    from history
    cross join generate_series(0, history.end_date - history.start_date) as day_offset
),

fills_per_day as (
    -- Counts summed over symbols stay whole numbers (sum of bigint is numeric).
    select
        date_day,
        {{ daily_measures_summed() }}
    from fills_per_symbol_day
    group by date_day
),

days as (
    select
        calendar.date_day,
        {{ daily_measures_or_zero('fills_per_day') }}
    from calendar
    left join fills_per_day on calendar.date_day = fills_per_day.date_day
),

with_equity as (
    select
        *,
        {{ starting_equity() }}
        + coalesce(sum(realized_pnl_usd) over days_before, 0) as equity_start_usd
    from days
    window days_before as (order by date_day rows between unbounded preceding and 1 preceding)
),

final as (
    select
        date_day,
        {{ daily_measure_names() }},
        equity_start_usd,
        equity_start_usd + realized_pnl_usd as equity_end_usd,
        -- Shown to 6 decimals; performance_metrics computes its ratios from
        -- the exact return, not from this column.
        {{ round_ratio(daily_return('realized_pnl_usd', 'equity_start_usd')) }} as daily_return
    from with_equity
)

select * from final
