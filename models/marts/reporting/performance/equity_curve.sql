-- The equity curve, one point per trade (a sell that closed inventory) up to
-- `as_of`: starting equity plus cumulative realized P&L, with the running
-- peak and the drawdown from it. Points are ordered by (sell time, order id)
-- and summed over rows, not over a range of equal times: the bot's own query
-- let sells at one timestamp share one cumulative value. The peak starts at
-- the starting equity, so a first losing trade is already a drawdown (the
-- bot's query only took the peak from the first trade on).
--
-- Incremental from the earliest changed point (macros/equity_curve_cut.sql):
-- a point depends only on the trades up to it, so a build keeps every point
-- before the first trade that changed and carries the sequence, cumulative
-- P&L and peak of the last kept point on. New fills at the end of a few
-- symbols rewrite a few points, not the whole history. The cut is computed
-- once by a pre-hook into a temporary table, so the compiled SQL of an
-- incremental build runs only inside that build.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_from_cut',
    on_schema_change='append_new_columns',
    pre_hook=["{{ ensure_symbol_state() }}", "{{ record_equity_curve_cut() }}"],
    post_hook=[
        "{{ record_symbol_state(ref('int_fill_fingerprints')) }}",
        "{{ ensure_index(['sell_time', 'sell_order_id']) }}"
    ],
    meta={'build_fingerprint_vars': ['starting_equity_usd']}
) }}
with trades as (
    -- Already cut at `as_of`, like every FIFO model.
    select * from {{ ref('int_closed_trades') }}
),

{% if is_incremental() %}
    cut as (
        -- Written by the pre-hook (record_equity_curve_cut), for the strategy's delete too.
        select * from {{ equity_curve_cut_relation() }}
    ),

    kept_points as (
        select * from {{ this }}
    ),

    last_kept_point as (
        select kept_points.trade_seq, kept_points.cumulative_pnl_usd, kept_points.peak_equity_usd
        from kept_points
        -- Compared with the cut as a subquery, not joined to it: PostgreSQL
        -- then reads the points (and the trades below) from the cut on by
        -- the index on (sell_time, sell_order_id), where a join to the
        -- unanalysed one-row table sorted every point and every trade first
        -- (1.2 s of a scheduled run's 2.3 s for 17k recomputed points at 1M fills).
        where (kept_points.sell_time, kept_points.sell_order_id) < (select cut.sell_time, cut.sell_order_id from cut)
        order by kept_points.sell_time desc, kept_points.sell_order_id desc
        limit 1
    ),

    carried as (
        -- One row: what the points before the cut add up to (nothing before the first point).
        select
            coalesce(last_kept_point.trade_seq, 0) as trade_seq,
            coalesce(last_kept_point.cumulative_pnl_usd, 0) as cumulative_pnl_usd,
            coalesce(last_kept_point.peak_equity_usd, {{ starting_equity() }}) as peak_equity_usd
        from (select) as one_row
        left join last_kept_point on true
    ),

    recomputed_trades as (
        select trades.*
        from trades
        where (trades.sell_time, trades.sell_order_id) >= (select cut.sell_time, cut.sell_order_id from cut)
    ),
{% else %}
    carried as (
        select
            0::bigint as trade_seq,
            0 as cumulative_pnl_usd,
            {{ starting_equity() }} as peak_equity_usd
    ),

    recomputed_trades as (
        select * from trades
    ),
{% endif %}

closed_trades as (
    select
        *,
        {{ utc_date('sell_time') }} as sell_date
    from recomputed_trades
    where is_closed_trade
),

sequenced as (
    -- Every window of the curve orders by (sell time, order id), not by
    -- trade_seq: one sort serves them all.
    select
        closed_trades.*,
        carried.trade_seq + row_number() over curve_so_far as trade_seq,
        carried.cumulative_pnl_usd + sum(closed_trades.realized_pnl_usd) over curve_so_far as cumulative_pnl_usd,
        carried.peak_equity_usd as carried_peak_usd
    from closed_trades
    cross join carried
    window curve_so_far as (
        order by closed_trades.sell_time, closed_trades.sell_order_id rows between unbounded preceding and current row
    )
),

with_equity as (
    select
        *,
        {{ starting_equity() }} + cumulative_pnl_usd as equity_usd
    from sequenced
),

with_running_max as (
    select
        *,
        max(equity_usd) over curve_so_far as running_max_equity_usd
    from with_equity
    window curve_so_far as (order by sell_time, sell_order_id rows between unbounded preceding and current row)
),

with_peak as (
    -- The carried peak joins the running maximum as max() would have taken
    -- it over the whole history (of equal values, the later one), so a point
    -- carries the same text (scale) whether the curve was built whole or on.
    select
        *,
        greatest(
            {{ starting_equity() }},
            case
                when running_max_equity_usd >= carried_peak_usd then running_max_equity_usd
                else carried_peak_usd
            end
        ) as peak_equity_usd
    from with_running_max
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
