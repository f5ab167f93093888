{#-
    Incremental builds of the equity curve, from the earliest changed point.

    A point of the curve depends only on the trades up to it (in the order
    sell time, sell order id), so when trades change, every point before the
    first changed one stands. The curve records per symbol the fill
    fingerprints it was built from, like the per-symbol models
    (macros/incremental_by_symbol.sql); only the symbols whose fingerprint
    changed are compared point by point.
-#}

{#-
    One row, the cut: the earliest (sell time, sell order id) from which the
    stored curve and `closed_trades` differ (a trade of a changed symbol that
    appeared, went, or changed in any column the curve copies; a trade that
    moved in time counts at the earlier of its two positions). The earliest
    possible position when the curve is rebuilt whole (its build fingerprint
    changed, or it has no state); no row when nothing changed.
-#}
{% macro equity_curve_cut(closed_trades) -%}
    with changed_symbols as (
        {{ changed_symbols(ref('int_fill_fingerprints')) }}
    ),

    -- The changed symbols' rows are found before any point's text is made:
    -- `offset 0` keeps each of these a subquery of its own, which PostgreSQL
    -- would otherwise merge into the next one and make the text of every
    -- stored point before its join dropped most of them (1.2 s instead of
    -- 0.18 s for 20 of 200 symbols at 1M fills). A filter `= any(array(...))`
    -- did as well for a few symbols but searches the array for every row:
    -- 1.4 s instead of 1.1 s when all 200 changed, worse with more symbols.
    changed_trades as (
        select *
        from {{ closed_trades }}
        where is_closed_trade and symbol in (select changed_symbols.symbol from changed_symbols)
        offset 0
    ),

    changed_stored_points as (
        select *
        from {{ this }}
        where symbol in (select changed_symbols.symbol from changed_symbols)
        offset 0
    ),

    current_points as (
        select
            sell_order_id,
            sell_time,
            row(
                symbol, sell_time, source, trigger_name, matched_size, cost_basis_usd, matched_net_proceeds_usd,
                fees_usd, realized_pnl_usd, outcome = 'win', outcome = 'loss'
            )::text as point
        from changed_trades
    ),

    stored_points as (
        select
            sell_order_id,
            sell_time,
            row(
                symbol, sell_time, source, trigger_name, matched_size, cost_basis_usd, matched_net_proceeds_usd,
                fees_usd, realized_pnl_usd, is_win, is_loss
            )::text as point
        from changed_stored_points
    ),

    changed_points as (
        select
            least(current_points.sell_time, stored_points.sell_time) as sell_time,
            coalesce(current_points.sell_order_id, stored_points.sell_order_id) as sell_order_id
        from current_points
        full outer join stored_points on current_points.sell_order_id = stored_points.sell_order_id
        where current_points.point is distinct from stored_points.point
    ),

    whole_curve as (
        -- A time before every trade, and the text that sorts first.
        select '-infinity'::timestamptz as sell_time, ''::text as sell_order_id
        where not exists ({{ current_build_state() }})
    ),

    cut_candidates as (
        select * from whole_curve
        union all
        select * from changed_points
    )

    select sell_time, sell_order_id
    from cut_candidates
    order by sell_time, sell_order_id
    limit 1
{%- endmacro %}

{#-
    Pre-hook of an incremental build, inside its transaction: the cut,
    computed once into a temporary table that the model's SQL and the
    strategy's delete both read (computing it twice scanned the trades and
    the curve twice more: a second of a scheduled run at 1M fills, where the
    spare copy's tables are cold).
-#}
{% macro record_equity_curve_cut() -%}
    {%- if is_incremental() -%}
        create temporary table {{ equity_curve_cut_relation() }} on commit drop as
        {%- if is_empty_build() %}
        -- An --empty build keeps every point (is_empty_build): no cut, and no
        -- comparison of every stored point with the empty trades.
        select null::timestamptz as sell_time, null::text as sell_order_id where false
        {%- else %}
        {{ equity_curve_cut(ref('int_closed_trades')) }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- The temporary table holding this build's cut (one row, or none). -#}
{% macro equity_curve_cut_relation() -%}
    equity_curve_cut
{%- endmacro %}

{#-
    The strategy: drop the points from the cut on, insert the recomputed
    ones. Read by dbt's incremental materialization as
    incremental_strategy='replace_from_cut'.
-#}
{% macro get_incremental_replace_from_cut_sql(arg_dict) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- if not is_empty_build() %}
    -- The cut as a subquery: the points from it on are read by the index.
    delete from {{ arg_dict['target_relation'] }} as points
    where (points.sell_time, points.sell_order_id) >= (
        select cut.sell_time, cut.sell_order_id from {{ equity_curve_cut_relation() }} as cut
    );
    {%- endif %}
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
