-- daily_pnl per symbol: one row per UTC day and symbol, on the same full
-- calendar (first fill's day to the day of `as_of`), for every symbol with a
-- fill up to `as_of`, zeros on days it did not trade. Summed over symbols it
-- gives daily_pnl's counts and money.

with trades as (
    select * from {{ ref('fct_trades') }}
),

daily as (
    select * from {{ ref('daily_pnl') }}
),

windows as (
    select * from {{ ref('report_windows') }}
),

history as (
    select window_end_at as as_of_at
    from windows
    where window_name = 'all'
),

fills_until_as_of as (
    select
        trades.*,
        {{ utc_date('trades.order_time') }} as date_day,
        -- A trade is a sell that closed inventory, as in daily_pnl.
        trades.side = 'sell' and trades.matched_size > 0 as is_trade
    from trades
    inner join history on trades.order_time <= history.as_of_at
),

symbols as (
    select distinct symbol from fills_until_as_of
),

calendar as (
    select
        daily.date_day,
        symbols.symbol
    from daily
    cross join symbols
),

fills_per_day as (
    select
        date_day,
        symbol,
        count(*) filter (where side = 'buy') as buys,
        count(*) filter (where side = 'sell') as sells,
        count(*) filter (where is_trade) as trades,
        count(*) filter (where is_trade and realized_pnl_usd > 0) as wins,
        count(*) filter (where is_trade and realized_pnl_usd < 0) as losses,
        count(*) filter (where is_trade and realized_pnl_usd = 0) as breakevens,
        sum(realized_pnl_usd) filter (where side = 'sell') as realized_pnl_usd,
        sum(fees_usd) as fees_usd,
        sum(notional_usd) filter (where side = 'buy') as bought_usd,
        sum(notional_usd) filter (where side = 'sell') as sold_usd
    from fills_until_as_of
    group by date_day, symbol
),

days as (
    select
        calendar.date_day,
        calendar.symbol,
        coalesce(fills_per_day.buys, 0) as buys,
        coalesce(fills_per_day.sells, 0) as sells,
        coalesce(fills_per_day.trades, 0) as trades,
        coalesce(fills_per_day.wins, 0) as wins,
        coalesce(fills_per_day.losses, 0) as losses,
        coalesce(fills_per_day.breakevens, 0) as breakevens,
        coalesce(fills_per_day.realized_pnl_usd, 0) as realized_pnl_usd,
        coalesce(fills_per_day.fees_usd, 0) as fees_usd,
        coalesce(fills_per_day.bought_usd, 0) as bought_usd,
        coalesce(fills_per_day.sold_usd, 0) as sold_usd
    from calendar
    left join fills_per_day
        on calendar.date_day = fills_per_day.date_day and calendar.symbol = fills_per_day.symbol
),

final as (
    select
        *,
        sum(realized_pnl_usd) over symbol_so_far as cumulative_pnl_usd
    from days
    window symbol_so_far as (
        partition by symbol order by date_day rows between unbounded preceding and current row
    )
)

select * from final
