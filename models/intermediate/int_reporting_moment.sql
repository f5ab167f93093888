-- The reporting moment in one row: `as_of` when set, else the latest fill,
-- so that historical data gives the same answer whenever it is built; and
-- the first fill up to it, where windows and calendars start. With no fill
-- at all the row is still there, with nulls (marts then show no windows).
-- Read from the per-symbol bounds of int_fill_fingerprints (a row per
-- symbol), not from every fill: a five-minute build reads only the fills of
-- the symbols that changed, to fingerprint them again.
with symbol_bounds as (
    select * from {{ ref('int_fill_fingerprints') }}
),

bounds as (
    -- An aggregate without groups: always one row.
    select
        max(last_fill_at) as latest_fill_at,
        min(first_fill_at) as first_fill_at
    from symbol_bounds
),

final as (
    select
        {{ as_of_literal() or 'latest_fill_at' }} as as_of_at,
        first_fill_at
    from bounds
)

select * from final
