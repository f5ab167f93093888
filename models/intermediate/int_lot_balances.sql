-- The stored part of fct_buy_lots: every buy fill up to `as_of` as a FIFO
-- lot, with how much of it sells used and what is left. It depends on its
-- symbol's fills only, so it is built incrementally by symbol like the
-- allocations it sums; the moment-dependent columns (as_of, age) are added by
-- the fct_buy_lots view, which would otherwise rewrite every row each time
-- the latest fill moves.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config(
    appends='greatest(kept.buy_time, kept.last_sell_time)', append_replaces='buy_order_id'
) }}
with fills as (
    -- An appended symbol's closed lots stay closed: only its lots open at the
    -- last build and its new buys can change (their kept rows are replaced).
    {{ rows_to_compute_from(ref('stg_trading_bot__fills'), 'order_time', 'open_from', ref('int_fifo_allocations')) }}
),

allocations as (
    -- Already cut at `as_of`, like the buys below. A lot's pieces come after
    -- the lot, so those of the lots above are all here.
    {{ rows_to_compute_from(ref('int_fifo_allocations'), 'sell_time', 'open_from', ref('int_fifo_allocations')) }}
),

buys as (
    select *
    from fills
    where side = 'buy' and {{ until_as_of('order_time') }}
),

use_per_lot as (
    select
        buy_order_id,
        sum(allocated_size) as sold_size,
        sum(pnl_usd) as realized_pnl_usd,
        count(*) as sells_drawn,
        min(sell_time) as first_sell_time,
        max(sell_time) as last_sell_time
    from allocations
    where
        not is_unmatched
    {%- if is_incremental() %}
        and buy_order_id in (select buys.order_id from buys)
        {%- endif %}
    group by buy_order_id
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
        use_per_lot.last_sell_time,
        use_per_lot.realized_pnl_usd
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
        -- The dust is a reporting threshold: what counts as a position.
        remaining_size >= {{ var('fifo_dust') }} as is_open,
        case
            when remaining_size >= {{ var('fifo_dust') }}
                then trim_scale(remaining_size * price + {{ fee_share('fees_usd', 'remaining_size', 'size') }})
            else 0
        end as open_cost_basis_usd,
        sells_drawn,
        first_sell_time,
        last_sell_time,
        -- What the lot earned, summed once here so that reports by lot
        -- (entry triggers) do not regroup every allocation.
        realized_pnl_usd
    from lots
)

select * from final
