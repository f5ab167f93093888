-- One fingerprint per symbol of everything its fills say: the sum of a hash
-- of each fill's columns. Any new, late, corrected, deleted or re-statused
-- fill changes its symbol's fingerprint (an order-independent sum, so no sort
-- of the fills is needed). The per-symbol incremental models rebuild exactly
-- the symbols whose fingerprint differs from the one they were built from.
-- Its first and latest fill times give the reporting moment
-- (int_reporting_moment) and the day spine (metricflow_time_spine) without
-- another pass over every fill.
-- Incremental (macros/fill_fingerprints.sql): a build fingerprints again
-- only the symbols whose typed orders changed since its last one.
-- depends_on: {{ ref('base_trading_bot__orders') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_fingerprinted_symbols',
    on_schema_change='append_new_columns',
    pre_hook=["{{ take_changed_symbols(ref('base_trading_bot__orders'), ref('stg_trading_bot__fills')) }}"]
) }}
with fills as (
    select * from {{ ref('stg_trading_bot__fills') }} {{ where_symbol_to_fingerprint() }}
),

final as (
    select
        symbol,
        count(*) as fills,
        -- Each fill's hash is computed once, when staging types its row
        -- (base_trading_bot__orders.fill_hash).
        sum(fill_hash) as fingerprint,
        min(order_time) filter (where {{ until_as_of('order_time') }}) as first_fill_at,
        min(order_time) as earliest_fill_at,
        max(order_time) as last_fill_at,
        -- What the rows were computed under: another one rebuilds them all.
        '{{ fill_fingerprints_built_under() }}'::text as build_fingerprint
    from fills
    group by symbol
)

select * from final
