-- What a reviewer of the FIFO results should look at, in one long table for
-- a dashboard tile per check: sells inventory could not cover (per symbol),
-- sells drawing on lots older than `old_lot_gap_hours` (per symbol), open
-- lots by age, and quarantined raw rows by reason. Sizes are only summed
-- within one symbol: base units of different products do not add up.
-- Each row also carries its check's totals (check_items, check_amount_usd),
-- the same on every row of the check, so that a tile or the report reads a
-- check's headline figure without adding rows up; summing items stays right
-- within a check, summing the check_ columns would count a check many times.

-- The FIFO inputs are already cut at `as_of`.
-- `not materialized`: read by two steps, this import would otherwise be
-- written aside whole (every column, every row) before either reads it.
with allocations as not materialized (
    select * from {{ ref('fct_fifo_allocations') }}
),

lots as (
    select * from {{ ref('fct_buy_lots') }}
),

quarantine as (
    select * from {{ ref('stg_trading_bot__quarantined_orders') }}
),

moment as (
    select * from {{ ref('int_reporting_moment') }}
),

unmatched_sells as (
    select
        'unmatched_sells' as check_name,
        symbol as category,
        count(distinct sell_order_id) as items,
        sum(allocated_size) as size,
        sum(proceeds_usd) as amount_usd
    from allocations
    where is_unmatched
    group by symbol
),

old_lot_sells as (
    select
        'old_lot_sells' as check_name,
        symbol as category,
        count(distinct sell_order_id) as items,
        sum(allocated_size) as size,
        sum(cost_basis_usd) as amount_usd
    from allocations
    where not is_unmatched and holding_time > interval '1 hour' * {{ var('old_lot_gap_hours') }}
    group by symbol
),

open_lots_aged as (
    select
        *,
        case
            when age < interval '1 day' then '0-1d'
            when age < interval '7 days' then '1-7d'
            when age < interval '30 days' then '7-30d'
            else '30d+'
        end as age_bucket
    from lots
    where is_open
),

open_lots_by_age as (
    select
        'open_lots_by_age' as check_name,
        age_bucket as category,
        count(*) as items,
        null::numeric as size,
        sum(open_cost_basis_usd) as amount_usd
    from open_lots_aged
    group by age_bucket
),

quarantined_rows as (
    select
        'quarantined_rows' as check_name,
        reason as category,
        count(*) as items,
        null::numeric as size,
        null::numeric as amount_usd
    from quarantine
    group by reason
),

checks as (
    select * from unmatched_sells
    union all
    select * from old_lot_sells
    union all
    select * from open_lots_by_age
    union all
    select * from quarantined_rows
),

final as (
    select
        checks.check_name,
        checks.category,
        checks.items,
        checks.size,
        checks.amount_usd,
        (sum(checks.items) over (partition by checks.check_name))::bigint as check_items,
        sum(checks.amount_usd) over (partition by checks.check_name) as check_amount_usd,
        moment.as_of_at as as_of
    from checks
    cross join moment
)

select * from final
