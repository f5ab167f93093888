-- daily_pnl per symbol: one row per UTC day and symbol, from the symbol's own
-- first fill to the day of `as_of`, zeros on days it did not trade. Summed
-- over symbols it gives daily_pnl's counts and money. Each symbol's calendar
-- starts at its own first fill, so one early fill of one symbol cannot give
-- every other symbol years of empty days.

-- `not materialized`: read by two steps, this import would otherwise be
-- written aside whole (every column, every row) before either reads it.
with fills_per_day as not materialized (
    select * from {{ ref('int_fills_aggregated_daily') }}
),

daily as (
    select * from {{ ref('daily_pnl') }}
),

symbols as (
    select
        symbol,
        min(date_day) as first_day
    from fills_per_day
    group by symbol
),

calendar as (
    select
        daily.date_day,
        symbols.symbol
    from daily
    inner join symbols on daily.date_day >= symbols.first_day
),

days as (
    select
        calendar.date_day,
        calendar.symbol,
        {{ daily_measures_or_zero('fills_per_day') }}
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
