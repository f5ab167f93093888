-- Exactly the columns of the bot's own fifo_allocations table, so that its
-- existing dashboards and scripts can point here unchanged.
{{ config(materialized='view') }}

with allocations as (
    select * from {{ ref('fct_fifo_allocations') }}
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
        allocation_version
    from allocations
)

select * from final
