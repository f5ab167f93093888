-- Realized P&L by the trigger that opened a position (the buy's: entry) and
-- by the one that closed it (the sell's: exit), up to `as_of`. Entry results
-- are per buy lot (the P&L of the sells that drew on it); exit results per
-- sell. Where the bot left a buy's trigger empty, it is inferred from the
-- buy's notional through the trigger_notional_map seed, as the bot's own
-- report did, and such rows are marked inferred. An empty exit trigger stays
-- 'unknown': the sells' notional says nothing about what triggered them.

with windows as (
    select * from {{ ref('report_windows') }}
),

lots as (
    select * from {{ ref('fct_buy_lots') }}
),

allocations as (
    select * from {{ ref('fct_fifo_allocations') }}
),

curve as (
    select * from {{ ref('equity_curve') }}
),

trades as (
    select * from {{ ref('fct_fills') }}
),

notional_map as (
    select * from {{ ref('trigger_notional_map') }}
),

history as (
    select window_end_at as as_of_at
    from windows
    where window_name = 'all'
),

notional_bands as (
    select * from notional_map
    where min_notional_usd is not null
),

fallback_trigger as (
    select min(trigger_name) as trigger_name
    from notional_map
    where min_notional_usd is null
),

buys as (
    select
        lots.buy_order_id,
        lots.trigger_name as recorded_trigger,
        lots.price * lots.size as notional_usd
    from lots
    inner join history on lots.buy_time <= history.as_of_at
),

buy_triggers as (
    select
        buys.buy_order_id,
        buys.notional_usd,
        coalesce(buys.recorded_trigger, band.trigger_name, fallback_trigger.trigger_name, 'unknown') as trigger_name,
        buys.recorded_trigger is null as is_inferred
    from buys
    cross join fallback_trigger
    -- Bands do not overlap; the lateral limit keeps one match even if a
    -- mapping edit made them.
    left join lateral (
        select notional_bands.trigger_name
        from notional_bands
        where
            buys.recorded_trigger is null
            and buys.notional_usd between notional_bands.min_notional_usd and notional_bands.max_notional_usd
        order by notional_bands.min_notional_usd
        limit 1
    ) as band on true
),

results_per_lot as (
    select
        allocations.buy_order_id,
        sum(allocations.pnl_usd) as realized_pnl_usd
    from allocations
    inner join history on allocations.sell_time <= history.as_of_at
    where not allocations.is_unmatched
    group by allocations.buy_order_id
),

entry_rows as (
    select
        'entry' as trigger_role,
        buy_triggers.trigger_name,
        buy_triggers.is_inferred,
        buy_triggers.notional_usd,
        results_per_lot.realized_pnl_usd
    from buy_triggers
    left join results_per_lot on buy_triggers.buy_order_id = results_per_lot.buy_order_id
),

sells as (
    select
        trades.order_id,
        trades.trigger_name,
        trades.notional_usd
    from trades
    inner join history on trades.order_time <= history.as_of_at
    where trades.side = 'sell'
),

exit_rows as (
    select
        'exit' as trigger_role,
        coalesce(sells.trigger_name, 'unknown') as trigger_name,
        false as is_inferred,
        sells.notional_usd,
        curve.realized_pnl_usd
    from sells
    left join curve on sells.order_id = curve.sell_order_id
),

order_rows as (
    select * from entry_rows
    union all
    select * from exit_rows
),

final as (
    select
        trigger_role,
        trigger_name,
        is_inferred,
        count(*) as orders,
        count(realized_pnl_usd) as orders_with_result,
        count(*) filter (where realized_pnl_usd > 0) as wins,
        count(*) filter (where realized_pnl_usd < 0) as losses,
        count(*) filter (where realized_pnl_usd = 0) as breakevens,
        trim_scale(count(*) filter (where realized_pnl_usd > 0)::numeric / nullif(count(realized_pnl_usd), 0))
            as win_rate,
        coalesce(sum(realized_pnl_usd), 0) as realized_pnl_usd,
        sum(notional_usd) as notional_usd
    from order_rows
    group by trigger_role, trigger_name, is_inferred
)

select * from final
