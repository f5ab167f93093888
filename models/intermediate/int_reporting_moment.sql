-- The reporting moment in one row: `as_of` when set, else the latest fill,
-- so that historical data gives the same answer whenever it is built; and
-- the first fill up to it, where windows and calendars start. With no fill
-- at all the row is still there, with nulls (marts then show no windows).
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }}
),

bounds as (
    -- One pass over the fills (an aggregate without groups: always one row).
    select
        max(order_time) as latest_fill_at,
        min(order_time) filter (where {{ until_as_of('order_time') }}) as first_fill_at
    from fills
),

final as (
    select
        {{ as_of_literal() or 'latest_fill_at' }} as as_of_at,
        first_fill_at
    from bounds
)

select * from final
