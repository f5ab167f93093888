-- Deprecated name of stg_trading_bot__quarantined_orders, kept for one
-- release where it always was (the staging schema).
{{ config(schema='staging') }}
with quarantined_orders as (
    select * from {{ ref('stg_trading_bot__quarantined_orders') }}
),

final as (
    select
        order_id,
        reason,
        symbol,
        side,
        order_time,
        status,
        raw_size,
        raw_price,
        raw_fees_usd
    from quarantined_orders
)

select * from final
