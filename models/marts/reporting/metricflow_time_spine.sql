-- The day spine MetricFlow joins metrics to (cumulative metrics, filled
-- gaps). Fixed from 2020 to the end of 2035, widened to cover any fill
-- outside that range, so that it never depends on the build date. The fill
-- range is read from the per-symbol bounds (a row per symbol), not from
-- every fill (0.4 s of each five-minute build at 1M fills).

with symbol_bounds as (
    select * from {{ ref('int_fill_fingerprints') }}
),

span as (
    select
        least(date '2020-01-01', min({{ utc_date('earliest_fill_at') }})) as first_day,
        greatest(date '2035-12-31', max({{ utc_date('last_fill_at') }})) as last_day
    from symbol_bounds
),

final as (
    select span.first_day + day_offset as date_day
    from span
    cross join generate_series(0, span.last_day - span.first_day) as day_offset
)

select * from final
