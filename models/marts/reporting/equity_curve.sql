-- The equity curve, one point per trade (a sell that closed inventory) up to
-- `as_of`: starting equity plus cumulative realized P&L, with the running
-- peak and the drawdown from it. Points are ordered by (sell time, order id)
-- and summed over rows, not over a range of equal times: the bot's own query
-- let sells at one timestamp share one cumulative value. The peak starts at
-- the starting equity, so a first losing trade is already a drawdown (the
-- bot's query only took the peak from the first trade on).

with trades as (
    select * from {{ ref('fct_fills') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

history as (
    select window_end_at as as_of_at
    from windows
    where window_name = 'all'
),

closed_trades as (
    select
        trades.order_id as sell_order_id,
        trades.symbol,
        trades.order_time as sell_time,
        {{ utc_date('trades.order_time') }} as sell_date,
        trades.source,
        trades.trigger_name,
        trades.matched_size,
        trades.cost_basis_usd,
        trades.matched_net_proceeds_usd,
        trades.fees_usd,
        trades.realized_pnl_usd
    from trades
    inner join history on trades.order_time <= history.as_of_at
    where trades.side = 'sell' and trades.matched_size > 0
),

sequenced as (
    select
        *,
        row_number() over (order by sell_time, sell_order_id) as trade_seq
    from closed_trades
),

cumulated as (
    select
        *,
        sum(realized_pnl_usd) over curve_so_far as cumulative_pnl_usd
    from sequenced
    window curve_so_far as (order by trade_seq rows between unbounded preceding and current row)
),

with_equity as (
    select
        *,
        {{ starting_equity() }} + cumulative_pnl_usd as equity_usd
    from cumulated
),

with_peak as (
    select
        *,
        greatest({{ starting_equity() }}, max(equity_usd) over curve_so_far) as peak_equity_usd
    from with_equity
    window curve_so_far as (order by trade_seq rows between unbounded preceding and current row)
),

final as (
    select
        trade_seq,
        sell_order_id,
        symbol,
        sell_time,
        sell_date,
        source,
        trigger_name,
        matched_size,
        cost_basis_usd,
        matched_net_proceeds_usd,
        fees_usd,
        realized_pnl_usd,
        realized_pnl_usd > 0 as is_win,
        realized_pnl_usd < 0 as is_loss,
        cumulative_pnl_usd,
        equity_usd,
        peak_equity_usd,
        equity_usd - peak_equity_usd as drawdown_usd,
        case when peak_equity_usd > 0 then trim_scale((equity_usd - peak_equity_usd) / peak_equity_usd) end
            as drawdown_pct
    from with_peak
)

select * from final
