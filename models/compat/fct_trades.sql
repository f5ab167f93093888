-- Deprecated name of fct_fills (it always held every fill, not only
-- trades), kept for one release so that BI reading it keeps working.
with fills as (
    select * from {{ ref('fct_fills') }}
),

final as (
    select
        order_id,
        symbol,
        side,
        order_time,
        size,
        price,
        fees_usd,
        notional_usd,
        status,
        source,
        trigger_name,
        order_type,
        matched_size,
        unmatched_size,
        cost_basis_usd,
        matched_proceeds_usd,
        matched_net_proceeds_usd,
        realized_pnl_usd,
        lots_drawn,
        oldest_lot_time,
        newest_lot_time,
        remaining_size,
        is_open
    from fills
)

select * from final
