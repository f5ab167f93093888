{#-
    Incremental builds of the typed orders (base_trading_bot__orders), by
    order id: a raw row's typing and rejection reason depend only on the raw
    rows sharing its order id (the duplicate rules), the project variables,
    and, for `future_order_time`, the clock.

    Each built row keeps `raw_row_hash`, the md5 of its raw row's text. The
    next build compares, per order id, the multiset of raw hashes with the
    built ones: an id with a new, corrected, deleted or added copy is
    recomputed, as is every row rejected as `future_order_time` (the clock
    may have caught up) and every row without an order id. The set is fixed
    once per build by the pre-hook, so that the model's rows and the
    strategy's delete agree even if the raw table changes meanwhile (such a
    change is caught by the next build).

    What the build read is kept beside the model (`raw_orders_read_relation`:
    every raw row's order id and hash, written by one statement, so from one
    snapshot of the raw table). The nothing-lost test compares the staging
    parts with it rather than with the live raw table, which the bot keeps
    writing: an order written after the build read the table is not lost, it
    is the next build's (the check against the live table failed scheduled
    builds whenever the bot wrote in between).

    `staging_build_fingerprint()` covers what changes every row: the model's
    code, the normalisation and check macros as they render (variable values
    included). Built rows carry it; when it differs, every row is rebuilt.
-#}

{% macro staging_build_fingerprint() -%}
    {{- local_md5(
        model.raw_code
        ~ '|' ~ normalise_symbol('c') ~ '|' ~ clean_code('c') ~ '|' ~ clean_label(trigger_text('c'))
        ~ '|' ~ is_not_finite_positive('c') ~ '|' ~ is_outside('c', 'min_size', 'max_size')
        ~ '|' ~ is_outside('c', 'min_price', 'max_price')
        ~ '|' ~ quoted_list(var('fill_statuses')) ~ '|' ~ quoted_list(var('non_fill_statuses'))
        ~ '|' ~ quoted_list(var('partial_fill_statuses'))
        ~ '|' ~ var('earliest_order_time') ~ '|' ~ var('future_tolerance_minutes')
        ~ '|' ~ var('max_notional_usd') ~ '|' ~ var('max_fee_share_of_notional')
    ) -}}
{%- endmacro %}

{#- True when this build may recompute only the changed order ids: incremental, built rows of this fingerprint. -#}
{% macro orders_build_by_change() -%}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {#- A table from before this column (an upgrade) is rebuilt; append_new_columns adds it first. -#}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'build_fingerprint' not in columns -%}
        {{ return(false) }}
    {%- endif -%}
    {#- Every row carries the fingerprint of the build that made it, and a build
        only adds rows of its own fingerprint, so one row tells. An empty table
        has nothing to keep: rebuilding it is free. -#}
    {%- set built = run_query('select build_fingerprint from ' ~ this ~ ' limit 1') -%}
    {{ return(built.rows | length == 1 and built.rows[0][0] == staging_build_fingerprint()) }}
{%- endmacro %}

{#-
    Where a build of `model` (the base orders model) keeps what it read and
    which order ids it retyped: unlogged tables beside it, rewritten by every
    build in the build's transaction (derived data: after a crash they are
    empty until the next build).
-#}
{% macro raw_orders_read_identifier(model=this) -%}
    {{ model.identifier ~ '__raw_read' }}
{%- endmacro %}

{% macro raw_orders_read_relation(model=this) -%}
    {{ adapter.quote(model.schema) }}.{{ adapter.quote(raw_orders_read_identifier(model)) }}
{%- endmacro %}

{% macro changed_orders_relation(model=this) -%}
    {{ adapter.quote(model.schema) }}.{{ adapter.quote(model.identifier ~ '__retyped_ids') }}
{%- endmacro %}

{#- Pre-hook: what the build reads, and the order ids to recompute, fixed for the whole build. -#}
{% macro fix_changed_order_ids(source_relation) -%}
    {%- if execute and this is not none and is_incremental() %}
    -- One build at a time changes the table (readers are not blocked): two
    -- builds computing the same changed ids would otherwise both insert them.
    lock table {{ this }} in exclusive mode;
    {%- endif %}
    drop table if exists {{ raw_orders_read_relation() }};
    create unlogged table {{ raw_orders_read_relation() }} as
    select
        order_id::text as order_key,
        md5(raw_orders::text) as raw_row_hash
    from {{ source_relation }} as raw_orders;
    drop table if exists {{ changed_orders_relation() }};
    {%- if orders_build_by_change() %}
    create unlogged table {{ changed_orders_relation() }} as
    with raw_copies as (
        select
            order_key as order_id,
            raw_row_hash,
            count(*) as copies
        from {{ raw_orders_read_relation() }}
        where order_key is not null
        group by 1, 2
    ),

    built_copies as (
        select
            order_id,
            raw_row_hash,
            count(*) as copies
        from {{ this }}
        where order_id is not null
        group by 1, 2
    )

    select coalesce(raw_copies.order_id, built_copies.order_id) as order_id
    from raw_copies
    full outer join built_copies
        on raw_copies.order_id = built_copies.order_id and raw_copies.raw_row_hash = built_copies.raw_row_hash
    where raw_copies.copies is distinct from built_copies.copies
    union
    select order_id from {{ this }} where rejection_reason = 'future_order_time' and order_id is not null;
    analyze {{ changed_orders_relation() }}
    {%- endif %}
{%- endmacro %}

{#-
    In the model: keep the raw rows to recompute (all of them in a full
    build). Rows without an order id are always recomputed, those the build
    read only: one written since must not land before the read counts it.
-#}
{% macro where_order_changed(order_id, raw_row_hash) -%}
    {%- if orders_build_by_change() -%}
        where
            {{ order_id }}::text in (select order_id from {{ changed_orders_relation() }})
            or (
                {{ order_id }} is null
                and {{ raw_row_hash }} in (
                    select read.raw_row_hash from {{ raw_orders_read_relation() }} as read where read.order_key is null
                )
            )
    {%- endif -%}
{%- endmacro %}

{#-
    Post-hook: fresh statistics after a full build, or when the build retyped
    a tenth of the rows or more; a build that retyped a few orders leaves
    them to autovacuum (a whole-table sample cost about half a second).
-#}
{% macro analyze_after_retyping() -%}
    do $analyze$
    begin
        if to_regclass('{{ changed_orders_relation() }}') is null then
            execute 'analyze {{ this }}';
        elsif (select count(*) from {{ changed_orders_relation() }}) * 10
            >= (select reltuples from pg_class where oid = '{{ this }}'::regclass) then
            execute 'analyze {{ this }}';
        end if;
    end
    $analyze$
{%- endmacro %}

{#-
    The strategy: delete the recomputed ids' rows (every row when the build
    fingerprint changed) and insert the recomputed ones. Read by dbt's
    incremental materialization as incremental_strategy='replace_changed_orders'.
-#}
{% macro get_incremental_replace_changed_orders_sql(arg_dict) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    delete from {{ arg_dict['target_relation'] }}
    {%- if orders_build_by_change() %}
    where order_id is null or order_id in (select order_id from {{ changed_orders_relation() }})
    {%- endif %};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
