-- Every buy fill up to `as_of` as a FIFO lot: how much of it sells up to
-- `as_of` used and what was left then. Open lots (remaining at least the
-- dust) are the positions at `as_of` (by default, the latest fill: now).
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }}
),

allocations as (
    select * from {{ ref('fct_fifo_allocations') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

buys as (
    select fills.*
    from fills
    cross join as_of
    where fills.side = 'buy' and fills.order_time <= as_of.as_of_at
),

use_per_lot as (
    select
        allocations.buy_order_id,
        sum(allocations.allocated_size) as sold_size,
        count(*) as sells_drawn,
        min(allocations.sell_time) as first_sell_time,
        max(allocations.sell_time) as last_sell_time
    from allocations
    cross join as_of
    where not allocations.is_unmatched and allocations.sell_time <= as_of.as_of_at
    group by allocations.buy_order_id
),

lots as (
    select
        buys.order_id as buy_order_id,
        buys.symbol,
        buys.order_time as buy_time,
        buys.size,
        buys.price,
        buys.fees_usd,
        buys.trigger_name,
        buys.source,
        coalesce(use_per_lot.sold_size, 0) as sold_size,
        buys.size - coalesce(use_per_lot.sold_size, 0) as remaining_size,
        coalesce(use_per_lot.sells_drawn, 0) as sells_drawn,
        use_per_lot.first_sell_time,
        use_per_lot.last_sell_time
    from buys
    left join use_per_lot on buys.order_id = use_per_lot.buy_order_id
),

final as (
    select
        buy_order_id,
        symbol,
        buy_time,
        size,
        price,
        fees_usd,
        trigger_name,
        source,
        sold_size,
        remaining_size,
        remaining_size >= {{ var('fifo_dust') }} as is_open,
        case
            when remaining_size >= {{ var('fifo_dust') }}
                then trim_scale(remaining_size * price + fees_usd * remaining_size / size)
            else 0
        end as open_cost_basis_usd,
        sells_drawn,
        first_sell_time,
        last_sell_time,
        {{ as_of_timestamp() }} as as_of,
        {{ as_of_timestamp() }} - buy_time as age
    from lots
)

select * from final
