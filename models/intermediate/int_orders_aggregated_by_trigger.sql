-- Per symbol, the orders and realized P&L of each entry trigger (the buy's)
-- and exit trigger (the sell's): what trigger_performance adds up over the
-- symbols. Entry results are per buy lot (the P&L of the sells that drew on
-- it), exit results per sell. Where the bot left a buy's trigger empty, it is
-- inferred from the buy's notional through the trigger_notional_map seed, as
-- the bot's own report did, and such rows are marked inferred. An empty exit
-- trigger stays 'unknown': the sells' notional says nothing about what
-- triggered them.
-- Incremental by symbol: summed at every build from every lot and sell
-- (1M rows at 1M fills), the mart cost 1.6-3.4 s of each five-minute build.
-- The seed is part of the build fingerprint (macros/incremental_by_symbol.sql):
-- an edited notional map re-infers every symbol.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
-- Every input is already cut at `as_of` (the FIFO models cut their fills).
with lots as (
    select * from {{ ref('int_lot_balances') }} {{ where_symbol_changed() }}
),

closed_trades as (
    select * from {{ ref('int_closed_trades') }} {{ where_symbol_changed() }}
),

notional_map as (
    select * from {{ ref('trigger_notional_map') }}
),

notional_bands as (
    -- Distinct: a band listed twice would otherwise infer a buy twice.
    select distinct
        trigger_name,
        min_notional_usd,
        max_notional_usd
    from notional_map
    where min_notional_usd is not null
),

fallback_trigger as (
    select min(trigger_name) as trigger_name
    from notional_map
    where min_notional_usd is null
),

buys as (
    select
        lots.symbol,
        lots.buy_order_id,
        lots.trigger_name as recorded_trigger,
        lots.price * lots.size as notional_usd,
        lots.sold_size,
        lots.realized_pnl_usd
    from lots
),

band_edges as (
    -- Every band's bounds, distinct and in order (null without bands). A
    -- band without an upper bound contains no notional (`between` a bound
    -- and null is never true), and width_bucket refuses a null edge.
    select array_agg(edge order by edge) as edges
    from (
        select min_notional_usd as edge from notional_bands
        union
        select max_notional_usd as edge from notional_bands
    ) as band_bounds
    where edge is not null
),

edge_pieces as (
    -- The edges cut the notional line into pieces that no band edge splits:
    -- each edge itself (a band includes both its bounds) and the open gap
    -- after it. Every notional in one piece lies in the same bands.
    select
        subscripts.edge_position,
        piece_kinds.on_edge,
        band_edges.edges[subscripts.edge_position] as piece_start,
        case
            when piece_kinds.on_edge then band_edges.edges[subscripts.edge_position]
            else band_edges.edges[subscripts.edge_position + 1]
        end as piece_end
    from band_edges
    cross join generate_subscripts(band_edges.edges, 1) as subscripts (edge_position)
    cross join (values (true), (false)) as piece_kinds (on_edge)
    where piece_kinds.on_edge or subscripts.edge_position < cardinality(band_edges.edges)
),

piece_triggers as (
    -- Bands do not overlap; should a mapping edit make them, a piece in
    -- several takes the band that starts lowest (then the first name, then
    -- the narrowest).
    select distinct on (edge_pieces.edge_position, edge_pieces.on_edge)
        edge_pieces.edge_position,
        edge_pieces.on_edge,
        band.trigger_name
    from edge_pieces
    inner join notional_bands as band
        on edge_pieces.piece_start >= band.min_notional_usd and edge_pieces.piece_end <= band.max_notional_usd
    order by
        edge_pieces.edge_position, edge_pieces.on_edge,
        band.min_notional_usd, band.trigger_name, band.max_notional_usd
),

buys_placed as (
    -- width_bucket finds a notional's place among the edges by binary
    -- search: a hash join on the few pieces, instead of every buy tried
    -- against every band.
    select
        buys.*,
        case when buys.recorded_trigger is null then width_bucket(buys.notional_usd, band_edges.edges) end
            as edge_position,
        band_edges.edges
    from buys
    cross join band_edges
),

buy_triggers as (
    select
        buys_placed.symbol,
        buys_placed.buy_order_id,
        buys_placed.notional_usd,
        buys_placed.sold_size,
        buys_placed.realized_pnl_usd,
        coalesce(
            buys_placed.recorded_trigger, piece_triggers.trigger_name, fallback_trigger.trigger_name, 'unknown'
        ) as trigger_name,
        buys_placed.recorded_trigger is null as is_inferred
    from buys_placed
    cross join fallback_trigger
    left join piece_triggers
        on
            buys_placed.edge_position = piece_triggers.edge_position
            and (buys_placed.notional_usd = buys_placed.edges[buys_placed.edge_position]) = piece_triggers.on_edge
),

entry_rows as (
    select
        symbol,
        'entry' as trigger_role,
        trigger_name,
        is_inferred,
        notional_usd,
        realized_pnl_usd,
        -- A lot's result is scored as a trade's: the sells that drew on it.
        {{ trade_outcome('realized_pnl_usd', 'sold_size') }} as outcome
    from buy_triggers
),

exit_rows as (
    -- Every sell; only a closed trade has a result.
    select
        symbol,
        'exit' as trigger_role,
        coalesce(trigger_name, 'unknown') as trigger_name,
        false as is_inferred,
        notional_usd,
        case when is_closed_trade then realized_pnl_usd end as realized_pnl_usd,
        outcome
    from closed_trades
),

order_rows as (
    select * from entry_rows
    union all
    select * from exit_rows
),

final as (
    select
        symbol,
        trigger_role,
        trigger_name,
        is_inferred,
        count(*) as orders,
        count(realized_pnl_usd) as orders_with_result,
        count(outcome) as scored_orders,
        count(*) filter (where outcome = 'win') as wins,
        count(*) filter (where outcome = 'loss') as losses,
        count(*) filter (where outcome = 'breakeven') as breakevens,
        sum(realized_pnl_usd) as realized_pnl_usd,
        sum(notional_usd) as notional_usd
    from order_rows
    group by symbol, trigger_role, trigger_name, is_inferred
)

select * from final
