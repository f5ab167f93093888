-- Realized P&L by the trigger that opened a position (the buy's: entry) and
-- by the one that closed it (the sell's: exit), up to `as_of`. Entry results
-- are per buy lot (the P&L of the sells that drew on it); exit results per
-- sell. Where the bot left a buy's trigger empty, it is inferred from the
-- buy's notional through the trigger_notional_map seed, as the bot's own
-- report did, and such rows are marked inferred. An empty exit trigger stays
-- 'unknown': the sells' notional says nothing about what triggered them.

-- Every input is already cut at `as_of` (the FIFO models cut their fills).
with lots as (
    select * from {{ ref('fct_buy_lots') }}
),

closed_trades as (
    select * from {{ ref('int_closed_trades') }}
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
        lots.buy_order_id,
        lots.trigger_name as recorded_trigger,
        lots.price * lots.size as notional_usd,
        lots.sold_size,
        lots.realized_pnl_usd
    from lots
),

buy_triggers as (
    select
        buys.buy_order_id,
        buys.notional_usd,
        buys.sold_size,
        buys.realized_pnl_usd,
        coalesce(buys.recorded_trigger, band.trigger_name, fallback_trigger.trigger_name, 'unknown') as trigger_name,
        buys.recorded_trigger is null as is_inferred
    from buys
    cross join fallback_trigger
    -- Bands do not overlap; should a mapping edit make them, a notional in
    -- several takes the band that starts lowest (then the first name, then
    -- the narrowest): a join on the few bands, not a sorted lookup per buy.
    left join notional_bands as band
        on
            buys.recorded_trigger is null
            and buys.notional_usd between band.min_notional_usd and band.max_notional_usd
            and not exists (
                select 1
                from notional_bands as lower_band
                where
                    (lower_band.min_notional_usd, lower_band.trigger_name, lower_band.max_notional_usd)
                    < (band.min_notional_usd, band.trigger_name, band.max_notional_usd)
                    and buys.notional_usd between lower_band.min_notional_usd and lower_band.max_notional_usd
            )
),

entry_rows as (
    select
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
        trigger_role,
        trigger_name,
        is_inferred,
        count(*) as orders,
        count(realized_pnl_usd) as orders_with_result,
        count(*) filter (where outcome = 'win') as wins,
        count(*) filter (where outcome = 'loss') as losses,
        count(*) filter (where outcome = 'breakeven') as breakevens,
        {{ round_ratio(win_rate("count(*) filter (where outcome = 'win')", 'count(outcome)')) }} as win_rate,
        coalesce(sum(realized_pnl_usd), 0) as realized_pnl_usd,
        sum(notional_usd) as notional_usd
    from order_rows
    group by trigger_role, trigger_name, is_inferred
)

select * from final
