-- The legacy-P&L detector summed per symbol: how far the bot's own P&L
-- columns are from FIFO, and how many sells priced an exhausted lot.

with discrepancies as (
    select * from {{ ref('legacy_pnl_discrepancy') }}
),

ranked as (
    select
        *,
        row_number() over (partition by symbol order by abs_difference_usd desc nulls last, sell_order_id asc)
            as discrepancy_rank
    from discrepancies
),

final as (
    select
        symbol,
        count(*) as sells,
        count(legacy_result_usd) as sells_with_legacy_pnl,
        count(*) filter (where has_discrepancy) as sells_with_discrepancy,
        count(*) filter (where legacy_parent_exhausted) as sells_with_exhausted_parent,
        count(*) filter (where legacy_parent_not_in_fifo) as sells_with_parent_not_in_fifo,
        sum(legacy_result_usd) as legacy_result_usd,
        -- The same sum under its old name, which said pnl_usd although it
        -- sums realized_profit where the bot filled it: kept for one release
        -- for BI reading it (README, "Renamed in this release").
        sum(legacy_result_usd) as legacy_pnl_usd,
        sum(fifo_pnl_usd) filter (where legacy_result_usd is not null) as fifo_pnl_usd,
        sum(difference_usd) as difference_usd,
        sum(abs_difference_usd) as abs_difference_usd,
        max(sell_order_id) filter (where discrepancy_rank = 1 and abs_difference_usd is not null)
            as worst_sell_order_id,
        max(difference_usd) filter (where discrepancy_rank = 1) as worst_difference_usd
    from ranked
    group by symbol
)

select * from final
