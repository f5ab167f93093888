-- One fingerprint per symbol of everything its fills say: the sum of a hash
-- of each fill's columns. Any new, late, corrected, deleted or re-statused
-- fill changes its symbol's fingerprint (an order-independent sum, so no sort
-- of the fills is needed). The per-symbol incremental models rebuild exactly
-- the symbols whose fingerprint differs from the one they were built from.
-- Its first and latest fill times give the reporting moment
-- (int_reporting_moment) without another pass over every fill.
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }}
),

final as (
    select
        symbol,
        count(*) as fills,
        -- A row's text keeps each field in its place and tells null from
        -- empty: concat_ws skipped nulls, so a value moving from pnl_usd to
        -- realized_profit hashed the same.
        sum(hashtextextended(row(
            order_id, side, order_time, size, price, fees_usd, status, source, trigger_name, order_type,
            legacy_parent_id, legacy_pnl_usd, legacy_realized_profit, legacy_cost_basis_usd
        )::text, 0)::numeric) as fingerprint,
        min(order_time) filter (where {{ until_as_of('order_time') }}) as first_fill_at,
        max(order_time) as last_fill_at
    from fills
    group by symbol
)

select * from final
