-- Maximum drawdown per reporting window. Each window's curve opens at the
-- equity the trades before it left (the starting equity for `all`), and that
-- opening point is part of the running peak. The USD and percent maxima are
-- each the worst point of their own measure, so with a growing account they
-- may come from different points; peak and trough times are those of the
-- USD maximum. Drawdowns are zero or negative, as QuantStats reports them.

-- `not materialized`: read by two steps, this import would otherwise be
-- written aside whole (every column, every row) before either reads it.
with curve as not materialized (
    select * from {{ ref('equity_curve') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

opening_points as (
    select
        windows.window_name,
        0::bigint as trade_seq,
        windows.window_start_at as point_at,
        {{ starting_equity() }} + coalesce(sum(curve.realized_pnl_usd), 0) as equity_usd
    from windows
    left join curve on windows.window_start_at > curve.sell_time
    group by windows.window_name, windows.window_start_at
),

trade_points as (
    select
        windows.window_name,
        curve.trade_seq,
        curve.sell_time as point_at,
        curve.equity_usd
    from windows
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

with_drawdown as (
    select
        *,
        equity_usd - peak_equity_usd as drawdown_usd,
        case when peak_equity_usd > 0 then (equity_usd - peak_equity_usd) / peak_equity_usd end as drawdown_pct
    from with_peak
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

peaks_before_trough as (
    -- The peak a drawdown fell from: the last point up to the trough that
    -- stood at the trough's running peak.
    select
        troughs.window_name,
        max(with_drawdown.point_at) as peak_at
    from troughs
    inner join with_drawdown
        on
            troughs.window_name = with_drawdown.window_name
            and troughs.trade_seq >= with_drawdown.trade_seq
            and troughs.peak_equity_usd = with_drawdown.equity_usd
    group by troughs.window_name
),

final as (
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
        case when troughs.drawdown_usd < 0 then peaks_before_trough.peak_at end as peak_at,
        case when troughs.drawdown_usd < 0 then troughs.equity_usd end as trough_equity_usd,
        case when troughs.drawdown_usd < 0 then troughs.point_at end as trough_at,
        closing_points.drawdown_usd as current_drawdown_usd
    from windows
    inner join per_window on windows.window_name = per_window.window_name
    inner join closing_points on windows.window_name = closing_points.window_name
    inner join troughs on windows.window_name = troughs.window_name
    left join peaks_before_trough on windows.window_name = peaks_before_trough.window_name
)

select * from final
