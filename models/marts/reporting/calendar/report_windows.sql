-- The reporting windows every windowed mart shares: 1, 7 and 30 UTC calendar
-- days ending on the day of `as_of`, and the whole history. A window ends at
-- as_of itself, so a partial last day counts as a day. Windows never start
-- before the first fill: days before the bot traded would add zero returns
-- that never happened to the daily Sharpe and Sortino.

with history as (
    select * from {{ ref('int_reporting_moment') }}
),

window_lengths as (
    -- A null length is the whole history.
    select *
    from (values (1, '1d', 1), (2, '7d', 7), (3, '30d', 30), (4, 'all', null))
        as lengths (window_order, window_name, window_days)
),

window_dates as (
    select
        window_lengths.window_order,
        window_lengths.window_name,
        window_lengths.window_days,
        history.as_of_at,
        {{ utc_date('history.as_of_at') }} as end_date,
        case
            when window_lengths.window_days is null then {{ utc_date('history.first_fill_at') }}
            else greatest(
                {{ utc_date('history.as_of_at') }} - (window_lengths.window_days - 1),
                {{ utc_date('history.first_fill_at') }}
            )
        end as start_date
    from window_lengths
    cross join history
),

final as (
    select
        window_name,
        window_order,
        window_days,
        start_date,
        end_date,
        start_date::timestamp at time zone 'UTC' as window_start_at,
        as_of_at as window_end_at,
        end_date - start_date + 1 as calendar_days
    from window_dates
)

select * from final
