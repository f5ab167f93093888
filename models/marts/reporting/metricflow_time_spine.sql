-- The day spine MetricFlow joins metrics to (cumulative metrics, filled
-- gaps). Fixed from 2020 to the end of 2035, widened to cover any fill
-- outside that range, so that it never depends on the build date.

with fills as (
    select * from {{ ref('stg_trading_bot__fills') }}
),

span as (
    select
        least(date '2020-01-01', min({{ utc_date('order_time') }})) as first_day,
        greatest(date '2035-12-31', max({{ utc_date('order_time') }})) as last_day
    from fills
),

final as (
    select span.first_day + day_offset as date_day
    from span
    cross join generate_series(0, span.last_day - span.first_day) as day_offset
)

select * from final
