{#-
    The remaining-size invariants of FIFO lot allocations. Each test is applied
    to an allocations model with the columns of fct_fifo_allocations and, where
    it needs the fills, to the fills model the allocations were made from.
    Allocations are exact numeric and every piece is emitted, however small,
    so every comparison is exact: no tolerance that could add up over a long
    history. `fifo_dust` is a reporting threshold and plays no part here.
    Within a `dbt build`, the tests check the symbols whose rows no earlier
    invocation's tests have passed over (`symbols_not_yet_verified`, recorded
    by macros/verified_symbols.sql): what this build recomputed, and what a
    failed, killed or test-less invocation left. `dbt test` checks every symbol.
-#}

{#- No buy gives more than its size (its remaining size never goes below zero), and only to sells of its symbol. -#}
{% test buys_never_overdrawn(model, fills) %}
with allocations as (
    select * from {{ model }} where {{ symbols_not_yet_verified([model]) }}
),

fills as (
    -- The allocations stop at `as_of` (when set): so do the fills they are
    -- checked against. A build checks the symbols not yet verified.
    select * from {{ fills }}
    where {{ until_as_of('order_time') }} and {{ symbols_not_yet_verified([model]) }}
),

drawn_per_buy as (
    -- Grouped by symbol too: a lot drawn under another symbol's name fails.
    select buy_order_id, symbol, sum(allocated_size) as drawn_size
    from allocations
    where buy_order_id is not null
    group by buy_order_id, symbol
)

select drawn_per_buy.buy_order_id, drawn_per_buy.drawn_size, fills.size, fills.side
from drawn_per_buy
left join fills on drawn_per_buy.buy_order_id = fills.order_id
where
    fills.order_id is null
    or fills.side <> 'buy'
    or fills.symbol <> drawn_per_buy.symbol
    or drawn_per_buy.drawn_size > fills.size
{% endtest %}

{#-
    Every sell's allocations, matched plus unmatched, add up exactly to its
    size, and only sells have allocations.
-#}
{% test sell_allocations_sum_to_size(model, fills) %}
with allocations as (
    select * from {{ model }} where {{ symbols_not_yet_verified([model]) }}
),

fills as (
    -- The allocations stop at `as_of` (when set): so do the fills they are
    -- checked against. A build checks the symbols not yet verified.
    select * from {{ fills }}
    where {{ until_as_of('order_time') }} and {{ symbols_not_yet_verified([model]) }}
),

allocated_per_sell as (
    select sell_order_id, sum(allocated_size) as allocated_size
    from allocations
    group by sell_order_id
)

select fills.order_id, fills.side, fills.size, allocated_per_sell.allocated_size
from fills
full outer join allocated_per_sell on fills.order_id = allocated_per_sell.sell_order_id
where
    fills.order_id is null
    or (fills.side <> 'sell' and allocated_per_sell.sell_order_id is not null)
    or (
        fills.side = 'sell'
        and fills.size <> coalesce(allocated_per_sell.allocated_size, 0)
    )
{% endtest %}

{#- No matched buy is later than the sell it was sold by. -#}
{% test buy_not_after_sell(model) %}
select *
from {{ model }}
where buy_order_id is not null and buy_time > sell_time
{% endtest %}

{#-
    FIFO order, at the moment of each sell: the lot it draws on still had the
    size it gives, and every older lot of the symbol was already exhausted.
    This is the check that catches a sell pointed at a spent September lot.
-#}
{% test fifo_order(model, fills) %}
with allocations as (
    select * from {{ model }} where {{ symbols_not_yet_verified([model]) }}
),

fills as (
    -- The allocations stop at `as_of` (when set): so do the fills they are
    -- checked against. A build checks the symbols not yet verified.
    select * from {{ fills }}
    where {{ until_as_of('order_time') }} and {{ symbols_not_yet_verified([model]) }}
),

fills_in_fifo_order as (
    select
        order_id,
        symbol,
        side,
        size,
        row_number() over (
            partition by symbol
            order by {{ fifo_order_by() }}
        ) as fill_seq
    from fills
),

matched as (
    select
        allocations.sell_order_id,
        allocations.buy_order_id,
        allocations.allocated_size,
        buys.symbol,
        buys.size as buy_size,
        buys.fill_seq as buy_seq,
        sells.fill_seq as sell_seq
    from allocations
    inner join fills_in_fifo_order as buys on allocations.buy_order_id = buys.order_id
    -- Positions only compare within a symbol: a cross-symbol pair finds no sell.
    inner join fills_in_fifo_order as sells
        on allocations.sell_order_id = sells.order_id and buys.symbol = sells.symbol
),

lot_use_over_time as (
    select
        *,
        coalesce(sum(allocated_size) over (
            partition by buy_order_id order by sell_seq
            rows between unbounded preceding and 1 preceding
        ), 0) as drawn_before
    from matched
),

lot_exhaustion as (
    -- The fill position of the sell that emptied each lot (null while the lot
    -- still holds anything at all).
    select
        buys.order_id as buy_order_id,
        buys.symbol,
        buys.fill_seq as buy_seq,
        min(lot_use_over_time.sell_seq) filter (
            where lot_use_over_time.drawn_before + lot_use_over_time.allocated_size >= buys.size
        ) as exhausted_at_seq
    from fills_in_fifo_order as buys
    left join lot_use_over_time on buys.order_id = lot_use_over_time.buy_order_id
    where buys.side = 'buy'
    group by buys.order_id, buys.symbol, buys.fill_seq
),

older_lots_exhausted_by as (
    select
        buy_order_id,
        -- An older lot that never empties blocks every younger one.
        max(coalesce(exhausted_at_seq, 9223372036854775807)) over (
            partition by symbol order by buy_seq
            rows between unbounded preceding and 1 preceding
        ) as older_lots_exhausted_at_seq
    from lot_exhaustion
),

violations as (
    select
        lot_use_over_time.sell_order_id,
        lot_use_over_time.buy_order_id,
        case
            when lot_use_over_time.drawn_before >= lot_use_over_time.buy_size
                then 'drew on an exhausted lot'
            when lot_use_over_time.drawn_before + lot_use_over_time.allocated_size > lot_use_over_time.buy_size
                then 'drew more than the lot had left'
            when older_lots_exhausted_by.older_lots_exhausted_at_seq > lot_use_over_time.sell_seq
                then 'an older lot still had size'
        end as violation
    from lot_use_over_time
    inner join older_lots_exhausted_by on lot_use_over_time.buy_order_id = older_lots_exhausted_by.buy_order_id
)

select * from violations where violation is not null
{% endtest %}

{#- A sell has an unmatched part only when the symbol's inventory was exhausted at that moment. -#}
{% test unmatched_only_when_exhausted(model, fills) %}
with allocations as (
    select * from {{ model }} where {{ symbols_not_yet_verified([model]) }}
),

fills as (
    -- The allocations stop at `as_of` (when set): so do the fills they are
    -- checked against. A build checks the symbols not yet verified.
    select * from {{ fills }}
    where {{ until_as_of('order_time') }} and {{ symbols_not_yet_verified([model]) }}
),

results_per_sell as (
    select
        sell_order_id,
        sum(allocated_size) filter (where buy_order_id is null) as unmatched_size
    from allocations
    group by sell_order_id
),

inventory_over_time as (
    -- A sell takes its size less its unmatched part, from the fills, so a
    -- lost or doubled matched piece cannot hide an error here.
    select
        fills.order_id,
        fills.side,
        results_per_sell.unmatched_size,
        sum(case
            when fills.side = 'buy' then fills.size
            else -(fills.size - coalesce(results_per_sell.unmatched_size, 0))
        end)
            over (
                partition by fills.symbol
                order by {{ fifo_order_by('fills.') }}
                rows between unbounded preceding and current row
            ) as inventory_after
    from fills
    left join results_per_sell on fills.order_id = results_per_sell.sell_order_id
)

select *
from inventory_over_time
where side = 'sell' and unmatched_size > 0 and inventory_after > 0
{% endtest %}

{#-
    Per symbol, bought minus what sells matched equals what the lots still
    hold, all up to the lots' as_of. The matched side is taken from the fills
    (sell sizes less the unmatched parts), not from the pieces the lots were
    computed from, so a lost or doubled piece shows; exactly.
-#}
{% test open_remaining_balances(model, fills, allocations, lot_balances) %}
with lots as (
    -- `model` reads the lot balances, which sum the allocations: a build
    -- checks the symbols either of them has not yet verified.
    select * from {{ model }} where {{ symbols_not_yet_verified([allocations, lot_balances]) }}
),

as_of as (
    select coalesce(max(as_of), 'infinity'::timestamptz) as as_of_at from lots
),

fills as (
    select all_fills.*
    from {{ relation_as(fills, "all_fills") }}
    cross join as_of
    where all_fills.order_time <= as_of.as_of_at and {{ symbols_not_yet_verified([allocations, lot_balances], 'all_fills.symbol') }}
),

allocations as (
    select all_allocations.*
    from {{ relation_as(allocations, "all_allocations") }}
    cross join as_of
    where
        all_allocations.sell_time <= as_of.as_of_at
        and {{ symbols_not_yet_verified([allocations, lot_balances], 'all_allocations.symbol') }}
),

traded as (
    select
        symbol,
        sum(size) filter (where side = 'buy') as bought_size,
        sum(size) filter (where side = 'sell') as sold_size
    from fills
    group by symbol
),

unmatched as (
    select symbol, sum(allocated_size) as unmatched_size
    from allocations where buy_order_id is null group by symbol
),

remaining as (
    select symbol, sum(remaining_size) as remaining_size from lots group by symbol
)

select traded.symbol, traded.bought_size, traded.sold_size, unmatched.unmatched_size, remaining.remaining_size
from traded
left join unmatched on traded.symbol = unmatched.symbol
full outer join remaining on traded.symbol = remaining.symbol
where
    coalesce(traded.bought_size, 0)
    - (coalesce(traded.sold_size, 0) - coalesce(unmatched.unmatched_size, 0))
    - coalesce(remaining.remaining_size, 0)
    <> 0
{% endtest %}

{#- Review heuristic from the incident: sells drawing on a lot older than the gap. -#}
{% test sells_from_old_lots(model, gap_hours) %}
select sell_order_id, buy_order_id, symbol, buy_time, sell_time
from {{ model }}
where buy_order_id is not null and sell_time - buy_time > interval '1 hour' * {{ gap_hours }}
{% endtest %}
