-- Every buy fill up to `as_of` as a FIFO lot: how much of it sells up to
-- `as_of` used and what was left then. Open lots (remaining at least the
-- dust) are the positions at `as_of` (by default, the latest fill: now).
-- A view: the lots are stored (incrementally) in int_lot_balances, and the
-- moment they are measured at is read when queried, so a new fill of one
-- symbol does not rewrite every other symbol's lot ages.
{{ config(materialized='view') }}
with lots as (
    select * from {{ ref('int_lot_balances') }}
),

moment as (
    select * from {{ ref('int_reporting_moment') }}
),

final as (
    select
        lots.buy_order_id,
        lots.symbol,
        lots.buy_time,
        lots.size,
        lots.price,
        lots.fees_usd,
        lots.trigger_name,
        lots.source,
        lots.sold_size,
        lots.remaining_size,
        lots.is_open,
        lots.open_cost_basis_usd,
        lots.sells_drawn,
        lots.first_sell_time,
        lots.last_sell_time,
        lots.realized_pnl_usd,
        moment.as_of_at as as_of,
        moment.as_of_at - lots.buy_time as age
    from lots
    cross join moment
)

select * from final
