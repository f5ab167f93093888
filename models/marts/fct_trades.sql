-- Every fill up to `as_of` with its realized result: sells with the P&L of
-- their FIFO allocations, buys with what is left of them.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }} {{ where_symbol_changed() }}
),

allocations as (
    select * from {{ ref('fct_fifo_allocations') }} {{ where_symbol_changed() }}
),

lots as (
    -- The stored lots: fct_buy_lots adds only the moment they are measured at.
    select * from {{ ref('fct_lot_balances') }} {{ where_symbol_changed() }}
),

results_per_sell as (
    select
        sell_order_id,
        sum(allocated_size) filter (where not is_unmatched) as matched_size,
        sum(allocated_size) filter (where is_unmatched) as unmatched_size,
        sum(cost_basis_usd) as cost_basis_usd,
        sum(proceeds_usd) filter (where not is_unmatched) as matched_proceeds_usd,
        sum(net_proceeds_usd) filter (where not is_unmatched) as matched_net_proceeds_usd,
        sum(pnl_usd) as realized_pnl_usd,
        count(buy_order_id) as lots_drawn,
        min(buy_time) as oldest_lot_time,
        max(buy_time) as newest_lot_time
    from allocations
    group by sell_order_id
),

final as (
    select
        fills.order_id,
        fills.symbol,
        fills.side,
        fills.order_time,
        fills.size,
        fills.price,
        fills.fees_usd,
        fills.price * fills.size as notional_usd,
        fills.status,
        fills.source,
        fills.trigger_name,
        fills.order_type,
        case when fills.side = 'sell' then coalesce(results_per_sell.matched_size, 0) end as matched_size,
        case when fills.side = 'sell' then coalesce(results_per_sell.unmatched_size, 0) end as unmatched_size,
        results_per_sell.cost_basis_usd,
        results_per_sell.matched_proceeds_usd,
        results_per_sell.matched_net_proceeds_usd,
        case when fills.side = 'sell' then coalesce(results_per_sell.realized_pnl_usd, 0) end as realized_pnl_usd,
        coalesce(results_per_sell.lots_drawn, 0) as lots_drawn,
        results_per_sell.oldest_lot_time,
        results_per_sell.newest_lot_time,
        lots.remaining_size,
        lots.is_open
    from fills
    left join results_per_sell on fills.order_id = results_per_sell.sell_order_id
    left join lots on fills.order_id = lots.buy_order_id
    where {{ until_as_of('fills.order_time') }}
)

select * from final
