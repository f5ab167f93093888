-- The equity curve, one point per trade (a sell that closed inventory) up to
-- `as_of`: starting equity plus cumulative realized P&L, with the running
-- peak and the drawdown from it. Points are ordered by (sell time, order id)
-- and summed over rows, not over a range of equal times: the bot's own query
-- let sells at one timestamp share one cumulative value. The peak starts at
-- the starting equity, so a first losing trade is already a drawdown (the
-- bot's query only took the peak from the first trade on).

with trades as (
    -- Already cut at `as_of`, like every FIFO model.
    select * from {{ ref('int_closed_trades') }}
),

closed_trades as (
    select
        *,
        {{ utc_date('sell_time') }} as sell_date
    from trades
    where is_closed_trade
),

sequenced as (
    -- Every window of the curve orders by (sell time, order id), not by
    -- trade_seq: one sort serves them all.
    select
        *,
        row_number() over curve_so_far as trade_seq
    from closed_trades
    window curve_so_far as (order by sell_time, sell_order_id rows between unbounded preceding and current row)
),

cumulated as (
    select
        *,
        sum(realized_pnl_usd) over curve_so_far as cumulative_pnl_usd
    from sequenced
    window curve_so_far as (order by sell_time, sell_order_id rows between unbounded preceding and current row)
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
    window curve_so_far as (order by sell_time, sell_order_id rows between unbounded preceding and current row)
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
        outcome = 'win' as is_win,
        outcome = 'loss' as is_loss,
        cumulative_pnl_usd,
        equity_usd,
        peak_equity_usd,
        equity_usd - peak_equity_usd as drawdown_usd,
        case when peak_equity_usd > 0 then {{ round_ratio('(equity_usd - peak_equity_usd) / peak_equity_usd') }} end
            as drawdown_pct
    from with_peak
)

select * from final
