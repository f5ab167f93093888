-- Maximum drawdown per reporting window. Each window's curve opens at the
-- equity the trades before it left (the starting equity for `all`), and that
-- opening point is part of the running peak. The USD and percent maxima are
-- each the worst point of their own measure, so with a growing account they
-- may come from different points; peak and trough times are those of the
-- USD maximum. Drawdowns are zero or negative, as QuantStats reports them.
--
-- The whole history (`all`) opens at the starting equity before the first
-- trade, which is where the curve's own running peak starts: its points'
-- peak and drawdown are that window's, already stored. So `all`, most of
-- the points (400k of 518k at 1M fills), is summed from the curve as it is;
-- the bounded windows are walked point by point (sorting and windowing
-- every window's points again cost 1.2 s of this model's 1.8 s at 1M).

-- `not materialized`: read by two steps, this import would otherwise be
-- written aside whole (every column, every row) before either reads it.
with curve as not materialized (
    select * from {{ ref('equity_curve') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

bounded_windows as (
    select * from windows
    where window_name <> 'all'
),

opening_points as (
    -- A window opens at the equity of the last point before it: the curve
    -- already sums every earlier trade (summing them again per window
    -- joined each window with the whole curve).
    select
        windows.window_name,
        0::bigint as trade_seq,
        windows.window_start_at as point_at,
        {{ starting_equity() }} + coalesce((
            select curve.cumulative_pnl_usd
            from curve
            where curve.sell_time < windows.window_start_at
            -- The curve's order (trade_seq numbers it), which its index
            -- reads backwards from the window's start: one point, where
            -- ordering by trade_seq read and sorted every earlier point
            -- (0.3 s per window at 1M fills).
            order by curve.sell_time desc, curve.sell_order_id desc
            limit 1
        ), 0) as equity_usd
    from bounded_windows as windows
),

trade_points as (
    select
        windows.window_name,
        curve.trade_seq,
        curve.sell_time as point_at,
        curve.equity_usd
    from bounded_windows as windows
    inner join curve on {{ in_window('windows', 'curve.sell_time') }}
),

points as (
    select * from opening_points
    union all
    select * from trade_points
),

with_peak as (
    select
        *,
        max(equity_usd) over window_so_far as peak_equity_usd
    from points
    window window_so_far as (
        partition by window_name order by trade_seq rows between unbounded preceding and current row
    )
),

with_peak_at as (
    -- The peak a point has fallen from is the last point up to it that stood
    -- at its own running peak: the running peak never falls, so no later
    -- point stood at a lower one. Same order as above: no second sort.
    select
        *,
        max(point_at) filter (where equity_usd = peak_equity_usd) over window_so_far as peak_at
    from with_peak
    window window_so_far as (
        partition by window_name order by trade_seq rows between unbounded preceding and current row
    )
),

with_drawdown as (
    select
        *,
        equity_usd - peak_equity_usd as drawdown_usd,
        case when peak_equity_usd > 0 then (equity_usd - peak_equity_usd) / peak_equity_usd end as drawdown_pct
    from with_peak_at
),

per_window as (
    select
        window_name,
        count(*) - 1 as trades,
        min(drawdown_usd) as max_drawdown_usd,
        min(drawdown_pct) as max_drawdown_pct,
        max(trade_seq) as last_trade_seq,
        max(equity_usd) filter (where trade_seq = 0) as opening_equity_usd
    from with_drawdown
    group by window_name
),

trough_seqs as (
    -- The deepest point, the earliest of equally deep ones: found by joining
    -- the window's minimum back (two sorts of every point cost more).
    select
        with_drawdown.window_name,
        min(with_drawdown.trade_seq) as trade_seq
    from with_drawdown
    inner join per_window
        on
            with_drawdown.window_name = per_window.window_name
            and with_drawdown.drawdown_usd = per_window.max_drawdown_usd
    group by with_drawdown.window_name
),

troughs as (
    select with_drawdown.*
    from with_drawdown
    inner join trough_seqs
        on with_drawdown.window_name = trough_seqs.window_name and with_drawdown.trade_seq = trough_seqs.trade_seq
),

closing_points as (
    select with_drawdown.*
    from with_drawdown
    inner join per_window
        on with_drawdown.window_name = per_window.window_name and with_drawdown.trade_seq = per_window.last_trade_seq
),

bounded_window_drawdowns as (
    select
        windows.window_name,
        windows.window_start_at,
        windows.window_end_at,
        per_window.trades,
        per_window.opening_equity_usd,
        closing_points.equity_usd as closing_equity_usd,
        troughs.drawdown_usd as max_drawdown_usd,
        {{ round_ratio('per_window.max_drawdown_pct') }} as max_drawdown_pct,
        -- No drawdown, no peak or trough to name.
        case when troughs.drawdown_usd < 0 then troughs.peak_equity_usd end as peak_equity_usd,
        case when troughs.drawdown_usd < 0 then troughs.peak_at end as peak_at,
        case when troughs.drawdown_usd < 0 then troughs.equity_usd end as trough_equity_usd,
        case when troughs.drawdown_usd < 0 then troughs.point_at end as trough_at,
        closing_points.drawdown_usd as current_drawdown_usd
    from bounded_windows as windows
    inner join per_window on windows.window_name = per_window.window_name
    inner join closing_points on windows.window_name = closing_points.window_name
    inner join troughs on windows.window_name = troughs.window_name
),

history_summary as (
    select
        count(*) as trades,
        min(drawdown_pct) as min_drawdown_pct
    from curve
),

history_trough as (
    -- The deepest point, the earliest of equally deep ones; no row when no
    -- point fell below its peak.
    select
        trade_seq,
        sell_time,
        equity_usd,
        peak_equity_usd,
        drawdown_usd
    from curve
    where drawdown_usd < 0
    order by drawdown_usd, trade_seq
    limit 1
),

history_peak as (
    -- The last point up to the trough standing at the trough's peak. None
    -- when the peak is the starting equity no trade reached again: then it is
    -- the opening point's (the window's start).
    select max(curve.sell_time) as peak_at
    from curve
    inner join history_trough
        on curve.trade_seq <= history_trough.trade_seq and curve.equity_usd = history_trough.peak_equity_usd
),

history_close as (
    select
        equity_usd,
        drawdown_usd
    from curve
    order by trade_seq desc
    limit 1
),

whole_history_drawdowns as (
    select
        windows.window_name,
        windows.window_start_at,
        windows.window_end_at,
        history_summary.trades,
        {{ starting_equity() }} + 0 as opening_equity_usd,
        coalesce(history_close.equity_usd, {{ starting_equity() }} + 0) as closing_equity_usd,
        coalesce(history_trough.drawdown_usd, 0) as max_drawdown_usd,
        -- The opening point's drawdown is zero (none without a positive peak);
        -- the curve's points are rounded as this column is, and rounding keeps order.
        {{ round_ratio(
            'least(case when ' ~ starting_equity() ~ ' > 0 then 0 end, history_summary.min_drawdown_pct)'
        ) }} as max_drawdown_pct,
        history_trough.peak_equity_usd,
        case
            when history_trough.trade_seq is not null then coalesce(history_peak.peak_at, windows.window_start_at)
        end as peak_at,
        history_trough.equity_usd as trough_equity_usd,
        history_trough.sell_time as trough_at,
        coalesce(history_close.drawdown_usd, 0) as current_drawdown_usd
    from windows
    cross join history_summary
    left join history_trough on true
    left join history_peak on true
    left join history_close on true
    where windows.window_name = 'all'
),

final as (
    select * from bounded_window_drawdowns
    union all
    select * from whole_history_drawdowns
)

select * from final
