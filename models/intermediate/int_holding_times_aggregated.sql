-- Per symbol, the holding times of its matched allocations over its whole
-- history: how many, their total and their median. symbol_performance's
-- whole-history window reads them here: computed there at every build, the
-- median sorted every allocation of every symbol (0.9M at 1M fills) because
-- the window's end moves; here a five-minute build recomputes the changed
-- symbols only. The allocations are already cut at `as_of`, and that window
-- starts on the first fill's day, so it holds every one of them.
-- Holding times are intervals: their sum and median are exact (to the
-- microsecond), where a median of seconds went through double precision.
-- depends_on: {{ ref('int_fill_fingerprints') }}
{{ symbol_incremental_config() }}
with allocations as (
    select * from {{ ref('int_fifo_allocations') }} {{ where_symbol_changed() }}
),

matched_holding_times as (
    -- An unmatched piece has no lot, so no holding time.
    select
        symbol,
        sell_time - buy_time as holding_time
    from allocations
    where not is_unmatched
),

final as (
    select
        symbol,
        count(*) as matched_allocations,
        sum(holding_time) as total_holding_time,
        percentile_cont(0.5) within group (order by holding_time) as median_holding_time
    from matched_holding_times
    group by symbol
)

select * from final
