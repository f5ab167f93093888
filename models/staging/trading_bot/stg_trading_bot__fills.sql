-- The fills FIFO may use: filled orders that passed every check.
with orders as (
    select * from {{ ref('base_trading_bot__orders') }}
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
        status,
        source,
        trigger_name,
        order_type,
        legacy_parent_id,
        legacy_pnl_usd,
        legacy_realized_profit,
        legacy_cost_basis_usd,
        fill_hash
    from orders
    where is_fill and rejection_reason is null
)

select * from final
