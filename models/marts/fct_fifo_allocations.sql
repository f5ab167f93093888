-- FIFO lot allocations for readers: one row per (sell, buy lot) pair plus one
-- per sell for the part inventory could not cover. A view of
-- int_fifo_allocations, where they are computed and stored incrementally
-- (and where the unique allocation_id is enforced).
{{ config(materialized='view') }}
with allocations as (
    select * from {{ ref('int_fifo_allocations') }}
),

final as (
    select
        allocation_id,
        symbol,
        sell_order_id,
        buy_order_id,
        allocated_size,
        buy_price,
        sell_price,
        buy_fees_per_unit,
        sell_fees_per_unit,
        cost_basis_usd,
        proceeds_usd,
        net_proceeds_usd,
        pnl_usd,
        buy_time,
        sell_time,
        allocation_version,
        is_unmatched,
        holding_time,
        holding_seconds
    from allocations
)

select * from final
