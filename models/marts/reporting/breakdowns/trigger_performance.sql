-- Realized P&L by the trigger that opened a position (the buy's: entry) and
-- by the one that closed it (the sell's: exit), up to `as_of`: the per-symbol
-- figures of int_orders_aggregated_by_trigger (where entry triggers the bot
-- left empty are inferred from the notional) added up over the symbols.

with symbol_triggers as (
    select * from {{ ref('int_orders_aggregated_by_trigger') }}
),

final as (
    select
        trigger_role,
        trigger_name,
        is_inferred,
        sum(orders)::bigint as orders,
        sum(orders_with_result)::bigint as orders_with_result,
        sum(wins)::bigint as wins,
        sum(losses)::bigint as losses,
        sum(breakevens)::bigint as breakevens,
        {{ round_ratio(win_rate('sum(wins)', 'sum(scored_orders)')) }} as win_rate,
        coalesce(sum(realized_pnl_usd), 0) as realized_pnl_usd,
        sum(notional_usd) as notional_usd
    from symbol_triggers
    group by trigger_role, trigger_name, is_inferred
)

select * from final
