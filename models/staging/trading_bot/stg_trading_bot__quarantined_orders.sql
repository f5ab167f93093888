-- One row per raw row that cannot be trusted, with the first reason found, so
-- that nothing is dropped silently. Raw values are kept as they came.
with orders as (
    select * from {{ ref('base_trading_bot__orders') }}
),

final as (
    select
        order_id,
        rejection_reason as reason,
        symbol,
        side,
        order_time,
        status,
        size_float as raw_size,
        price_float as raw_price,
        fees_float as raw_fees_usd
    from orders
    where rejection_reason is not null
)

select * from final
