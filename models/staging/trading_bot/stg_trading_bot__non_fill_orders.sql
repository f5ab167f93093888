-- Orders that never filled (open, cancelled, failed...): kept for order-flow
-- analysis, never part of P&L.
with orders as (
    select * from {{ ref('base_trading_bot__orders') }}
),

final as (
    select
        order_id,
        symbol,
        side,
        order_time,
        status,
        source,
        trigger_name,
        order_type,
        size_float as requested_size,
        price_float as requested_price
    from orders
    where not is_fill and rejection_reason is null
)

select * from final
