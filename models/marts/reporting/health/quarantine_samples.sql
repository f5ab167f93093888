-- A few quarantined raw rows per reason, newest first, with the reason's row
-- count beside them: what a reviewer needs to see why rows were rejected
-- without reading staging. Raw values are kept as they came.

{% set samples_per_reason = 5 %}

with quarantine as (
    select * from {{ ref('stg_trading_bot__quarantined_orders') }}
),

counted as (
    select
        *,
        count(*) over (partition by reason) as reason_rows,
        row_number() over (
            partition by reason
            order by order_time desc nulls last, order_id asc nulls last, symbol asc nulls last
        ) as sample_rank
    from quarantine
),

final as (
    select
        reason,
        reason_rows,
        sample_rank,
        order_id,
        symbol,
        side,
        order_time,
        status,
        raw_size,
        raw_price,
        raw_fees_usd
    from counted
    where sample_rank <= {{ samples_per_reason }}
)

select * from final
