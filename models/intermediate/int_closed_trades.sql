-- Every sell up to `as_of` with its realized result, the one definition of a
-- trade's numbers: how much of it FIFO matched and could not match, its
-- cost basis, proceeds, P&L and fees, the lots it drew on, and its outcome.
-- A closed trade is a sell with a matched part (macros/trade_outcome.sql);
-- the other sells are kept with their unmatched size, so counts of sells and
-- of trades both come from here.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config(appends='kept.sell_time') }}
with fills as (
    -- An appended symbol keeps its earlier sells' rows: only the sells after
    -- the last build's latest fill are new (macros/incremental_by_symbol.sql).
    {{ rows_to_compute_from(ref('stg_trading_bot__fills'), 'order_time') }}
),

allocations as (
    {{ rows_to_compute_from(ref('int_fifo_allocations'), 'sell_time') }}
),

sells as (
    select *
    from fills
    where side = 'sell' and {{ until_as_of('order_time') }}
),

results_per_sell as (
    select
        sell_order_id,
        sum(allocated_size) filter (where not is_unmatched) as matched_size,
        sum(allocated_size) filter (where is_unmatched) as unmatched_size,
        sum(cost_basis_usd) as cost_basis_usd,
        sum(net_proceeds_usd) filter (where not is_unmatched) as matched_net_proceeds_usd,
        sum(pnl_usd) as realized_pnl_usd,
        count(buy_order_id) as lots_drawn,
        min(buy_time) as oldest_lot_time,
        max(buy_time) as newest_lot_time
    from allocations
    {%- if is_incremental() %}
    where sell_order_id in (select sells.order_id from sells)
    {%- endif %}
    group by sell_order_id
),

final as (
    select
        sells.order_id as sell_order_id,
        sells.symbol,
        sells.order_time as sell_time,
        sells.size as sell_size,
        sells.price as sell_price,
        sells.fees_usd,
        sells.price * sells.size as notional_usd,
        sells.source,
        sells.trigger_name,
        coalesce(results_per_sell.matched_size, 0) as matched_size,
        coalesce(results_per_sell.unmatched_size, 0) as unmatched_size,
        results_per_sell.cost_basis_usd,
        -- One sell price for all its pieces: the price times the matched
        -- size is their sum exactly (same value and scale), one product per
        -- sell instead of one per piece.
        sells.price * results_per_sell.matched_size as matched_proceeds_usd,
        results_per_sell.matched_net_proceeds_usd,
        coalesce(results_per_sell.realized_pnl_usd, 0) as realized_pnl_usd,
        coalesce(results_per_sell.lots_drawn, 0) as lots_drawn,
        results_per_sell.oldest_lot_time,
        results_per_sell.newest_lot_time,
        {{ is_closed_trade('results_per_sell.matched_size') }} as is_closed_trade,
        {{ trade_outcome('coalesce(results_per_sell.realized_pnl_usd, 0)', 'results_per_sell.matched_size') }}
            as outcome
    from sells
    left join results_per_sell on sells.order_id = results_per_sell.sell_order_id
)

select * from final
