{#-
    FIFO lot allocations, set-based.

    Per symbol, fills are ordered (time, buys before sells, order id) and put on
    one cumulative-quantity axis. The running balance (bought minus sold) would
    go below zero exactly where inventory cannot cover a sell; the cumulative
    unmatched quantity is the running minimum of the balance, floored at zero,
    with its sign turned, and each sell's unmatched part is its step. Without
    those parts, the matched sells tile [0, total matched) in order and the
    buys tile [0, total bought) in order, so FIFO is the overlap of the two
    interval sets: cutting the axis at every interval end gives segments that
    each lie in exactly one buy and at most one sell, and the number of buy
    (sell) ends before a segment is the sequence number of its buy (sell),
    which joins back on a unique key. Sorts and windows only: O(n log n).
    Quantities stay exact numeric and every piece is emitted, however small:
    a hidden piece would make the exact invariant tests see a lot as open.
-#}
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config(
    retired_columns=['allocation_id', 'proceeds_usd', 'holding_time', 'holding_seconds'],
    appends='kept.sell_time'
) }}
{#-
    A five-minute build reads a few symbols, and PostgreSQL estimates the
    steps below that filter the fill axis it keeps aside (buys, sells) at a
    fraction of their rows. It then joined the segments back to their sells by a merge
    join on the symbol alone, testing every segment against every sell of
    its symbol: 31 s for 50 symbols (250k fills) where the hash join takes
    1 s. Within this model's transaction only, merge joins are off.
-#}
{{ config(pre_hook=["{% if is_incremental() %}set local enable_mergejoin = off{% endif %}"]) }}
with recomputed_fills as (
    -- The symbols computed from their first fill: every symbol in a full build.
    select * from {{ ref('stg_trading_bot__fills') }} {{ where_symbol_recomputed() }}
),

{% if is_incremental() -%}
kept_open_from as (
    -- Only the lots from this moment on can be open, and only the kept
    -- pieces from it on can have drawn on them: an appended symbol reads
    -- those by the (symbol, time) indexes, not its whole history.
    {{ kept_open_from(this) }}
),

appended_symbols_fills as (
    select
        fills.*,
        kept_open_from.built_through
    from kept_open_from
    cross join lateral (
        {{ symbol_rows_from(ref('stg_trading_bot__fills'), 'order_time', 'kept_open_from', 'open_from') }}
    ) as fills
),

kept_use_per_lot as (
    select
        kept.buy_order_id,
        sum(kept.allocated_size) as used_size
    from kept_open_from
    inner join {{ this }} as kept
        on kept.symbol = kept_open_from.symbol and kept.sell_time >= kept_open_from.open_from
    where not kept.is_unmatched
    group by kept.buy_order_id
),

{% endif -%}
fills as (
    -- A fill's length on the FIFO axis is its size...
    select
        symbol,
        order_id,
        side,
        order_time,
        size,
        price,
        fees_usd,
        size as axis_size
    from recomputed_fills
    {%- if is_incremental() %}
    union all
    -- An appended symbol (macros/incremental_by_symbol.sql) starts from what
    -- the kept allocations left of its lots: each still open lot is on the
    -- axis with what is left of it (its size and fees still price it), and
    -- the fills after the last build follow. FIFO is causal, so the pieces
    -- this yields are those a computation from the first fill would add.
    select
        appended_symbols_fills.symbol,
        appended_symbols_fills.order_id,
        appended_symbols_fills.side,
        appended_symbols_fills.order_time,
        appended_symbols_fills.size,
        appended_symbols_fills.price,
        appended_symbols_fills.fees_usd,
        case
            when appended_symbols_fills.order_time > appended_symbols_fills.built_through
                then appended_symbols_fills.size
            else appended_symbols_fills.size - coalesce(kept_use_per_lot.used_size, 0)
        end as axis_size
    from appended_symbols_fills
    left join kept_use_per_lot on appended_symbols_fills.order_id = kept_use_per_lot.buy_order_id
    where
        appended_symbols_fills.order_time > appended_symbols_fills.built_through
        or (
            appended_symbols_fills.side = 'buy'
            and appended_symbols_fills.size > coalesce(kept_use_per_lot.used_size, 0)
        )
    {%- endif %}
),

fills_keyed as (
    -- `fills` is already narrow: the seven columns the method needs and the axis size.
    select
        *,
        {{ fifo_order_keys() }}
    from fills
    where {{ until_as_of('order_time') }}
),

fill_positions as (
    -- One sort of the narrow fills in FIFO order gives every running figure
    -- the method needs: the quantity bought and sold through each fill and
    -- the count of buys and sells so far (a fill's sequence number on its side).
    select
        symbol,
        order_id,
        side,
        order_time,
        size,
        price,
        fees_usd,
        fifo_is_sell,
        fifo_order_key,
        axis_size,
        sum(case when side = 'buy' then axis_size else 0 end) over through_fill as bought_through,
        sum(case when side = 'sell' then axis_size else 0 end) over through_fill as sold_through,
        count(*) filter (where side = 'buy') over through_fill as buys_through,
        count(*) filter (where side = 'sell') over through_fill as sells_through
    from fills_keyed
    window through_fill as (
        partition by symbol order by {{ fifo_order_by(keyed=true) }} rows between unbounded preceding and current row
    )
),

fill_axis as (
    -- The cumulative unmatched quantity is the running minimum of the balance,
    -- floored at zero and negated; a sell's unmatched part is its step. The
    -- minimum before a fill is the running minimum of the balance before each
    -- fill (the balance less the fill's own quantity), so both minimums come
    -- from one window step in the order above, with no second sort.
    select
        symbol,
        order_id,
        fifo_is_sell,
        order_time,
        size,
        price,
        fees_usd,
        bought_through,
        sold_through,
        buys_through,
        sells_through,
        greatest(0, -min(bought_through - sold_through) over through_fill) as unmatched_through,
        greatest(
            0,
            -min(
                bought_through - sold_through - case when side = 'buy' then axis_size else -axis_size end
            ) over through_fill
        ) as unmatched_before
    from fill_positions
    window through_fill as (
        partition by symbol order by {{ fifo_order_by(keyed=true) }} rows between unbounded preceding and current row
    )
),

buys as (
    -- Split by the boolean, not by `side = 'buy'`: in a five-minute build the
    -- fills are a union without statistics, and PostgreSQL guesses half the
    -- rows for a boolean but 0.5% for an equality. With a handful of buys
    -- estimated it compared every segment with every buy: 7.6 s instead of
    -- 0.5 s for 1,000 late fills over 20 symbols of 1,000 fills each.
    select
        symbol,
        buys_through as side_seq,
        order_id,
        order_time,
        size,
        price,
        fees_usd
    from fill_axis
    where not fifo_is_sell
),

sells as (
    select
        symbol,
        sells_through as side_seq,
        order_id,
        order_time,
        size,
        price,
        fees_usd
    from fill_axis
    where fifo_is_sell
),

interval_ends as (
    -- Where each fill's interval on the axis ends: a buy where everything
    -- bought through it ends; a matched sell where everything sold so far,
    -- less what was unmatched so far, ends. Read from fill_axis, like buys,
    -- sells and the unmatched pieces: PostgreSQL keeps that one step aside,
    -- and knows it is in symbol order (a step between would cost a full sort
    -- here, and buys and sells kept aside again 0.2-0.4 s at 1M fills).
    select
        symbol,
        case when fifo_is_sell then sold_through - unmatched_through else bought_through end as axis_position,
        case when fifo_is_sell then 0 else 1 end as buy_ends,
        case when fifo_is_sell then 1 else 0 end as sell_ends
    from fill_axis
),

segments as (
    -- Each axis segment ends at an interval end. Ends at one position sort
    -- together: only the first of them closes a segment of positive size,
    -- and the ends before it are exactly those at smaller positions, which
    -- count the buys and sells the segment lies after.
    select
        symbol,
        -- Equal positions can differ in scale, and the scale of a size sets
        -- the precision of every division after it: trimmed, a piece's size
        -- and money are the same text and value however the symbol was built.
        trim_scale(axis_position - lag(axis_position, 1, 0) over ends_in_order) as segment_size,
        coalesce(sum(buy_ends) over ends_before, 0) + 1 as buy_seq,
        coalesce(sum(sell_ends) over ends_before, 0) + 1 as sell_seq
    from interval_ends
    -- Buy ends before sell ends at one position: equal positions can carry
    -- different numeric scales (1.5 and 1.50), and a fixed order makes the
    -- segment, and so every division after it, the same in every build.
    window
        ends_in_order as (
            partition by symbol order by axis_position, sell_ends rows between unbounded preceding and current row
        ),
        ends_before as (
            partition by symbol order by axis_position, sell_ends rows between unbounded preceding and 1 preceding
        )
),

matched_pieces as (
    select
        sells.symbol,
        sells.order_id as sell_order_id,
        buys.order_id as buy_order_id,
        segments.segment_size as allocated_size,
        buys.price as buy_price,
        buys.size as buy_size,
        buys.fees_usd as buy_fees_usd,
        buys.order_time as buy_time,
        sells.price as sell_price,
        sells.size as sell_size,
        sells.fees_usd as sell_fees_usd,
        sells.order_time as sell_time
    from segments
    -- Segments past the last matched sell are open inventory: no sell joins.
    inner join sells
        on segments.symbol = sells.symbol and segments.sell_seq = sells.side_seq
    inner join buys
        on segments.symbol = buys.symbol and segments.buy_seq = buys.side_seq
    where segments.segment_size > 0
),

unmatched_pieces as (
    select
        symbol,
        order_id as sell_order_id,
        null::text as buy_order_id,
        trim_scale(unmatched_through - unmatched_before) as allocated_size,
        null::numeric as buy_price,
        null::numeric as buy_size,
        null::numeric as buy_fees_usd,
        null::timestamptz as buy_time,
        price as sell_price,
        size as sell_size,
        fees_usd as sell_fees_usd,
        order_time as sell_time
    from fill_axis
    -- A sell's unmatched part is the step of the cumulative unmatched quantity.
    where fifo_is_sell and unmatched_through > unmatched_before
),

pieces as (
    select * from matched_pieces
    union all
    select * from unmatched_pieces
),

pieces_valued as (
    -- Each money column carries one rounding (macros/fee_share.sql). The
    -- `offset 0` is a fence, not a limit: it keeps this step from being
    -- merged into the next, where P&L would compute both exact figures
    -- again (0.3-0.5 s at 1M fills).
    select
        *,
        buy_price * allocated_size
        + {{ fee_share('buy_fees_usd', 'allocated_size', 'buy_size') }} as cost_basis_exact,
        sell_price * allocated_size
        - {{ fee_share('sell_fees_usd', 'allocated_size', 'sell_size') }} as net_proceeds_exact
    from pieces
    offset 0  -- noqa: AM09
),

final as (
    -- Stored narrow: what can be derived from a row (its id, proceeds,
    -- holding time) is added by the fct_fifo_allocations view, not written
    -- for every piece.
    select
        symbol,
        sell_order_id,
        buy_order_id,
        allocated_size,
        buy_price,
        sell_price,
        -- Numeric division yields 20 decimals; trim_scale drops the trailing
        -- zeros so that 9.9 reads 9.9 (the value is unchanged).
        trim_scale(buy_fees_usd / buy_size) as buy_fees_per_unit,
        trim_scale(sell_fees_usd / sell_size) as sell_fees_per_unit,
        trim_scale(cost_basis_exact) as cost_basis_usd,
        trim_scale(net_proceeds_exact) as net_proceeds_usd,
        trim_scale(net_proceeds_exact - cost_basis_exact) as pnl_usd,
        buy_time,
        sell_time,
        {{ var('allocation_version') }}::integer as allocation_version,
        buy_order_id is null as is_unmatched
    from pieces_valued
)

select * from final
