{#-
    Incremental builds of the typed orders (base_trading_bot__orders), by
    order id: a raw row's typing and rejection reason depend only on the raw
    rows sharing its order id (the duplicate rules), the project variables,
    and, for `future_order_time`, the clock.

    Each built row keeps `raw_row_version`, the identity of the raw row
    version it was typed from (`raw_row_version()`). The next build compares
    the raw table's versions with the built ones: an id with a new,
    corrected, deleted or added copy has a version on one side only and is
    recomputed, as is every row rejected as `future_order_time` (the clock
    may have caught up) and every row without an order id. The set is fixed
    once per build by the pre-hook, so that the model's rows and the
    strategy's delete agree even if the raw table changes meanwhile (such a
    change is caught by the next build).

    What the build read is kept beside the model (`raw_orders_read_relation`:
    every raw row's order id and version, written by one statement, so from
    one snapshot of the raw table). The nothing-lost test compares the staging
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

{#-
    The identity of a raw row's version. For a table, PostgreSQL's own: the
    partition (tableoid), the transaction that wrote the version (xmin) and
    where it lies (ctid). Any insert or update writes a new version, and
    ctid is unique among the versions a snapshot sees, so a row that is
    unchanged keeps it and a changed one cannot. Reading it costs nothing,
    where hashing every raw row's text cost about 1.3 s per million rows at
    every build (and the text depended on session settings). A rewrite of
    the table (VACUUM FULL, CLUSTER, a restore) moves rows: the next build
    retypes the ids whose rows moved, at worst all of them, once. A source
    that is not a table (a view, a foreign table) has no versions: its
    rows' text is hashed instead.
-#}
{% macro raw_row_version(row, source_relation) -%}
    {%- if raw_source_has_row_versions(source_relation) -%}
        ({{ row }}.tableoid::text || ':' || {{ row }}.xmin::text || ':' || {{ row }}.ctid::text)
    {%- else -%}
        md5({{ row }}::text)
    {%- endif -%}
{%- endmacro %}

{% macro raw_source_has_row_versions(source_relation) -%}
    {#- In an --empty build the source is a subquery, with no versions (and no rows). -#}
    {%- if not execute or source_relation.limit is not none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set kind = run_query(
        "select relkind::text from pg_class where oid = to_regclass(" ~ dbt.string_literal(source_relation | string) ~ ")"
    ) -%}
    {{ return(kind.rows | length == 1 and kind.rows[0][0] in ('r', 'p')) }}
{%- endmacro %}

{#- True when this build may recompute only the changed order ids: incremental, built rows of this fingerprint. -#}
{% macro orders_build_by_change() -%}
    {%- if not execute or this is none or not is_incremental() or is_empty_build() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(rows_built_under(staging_build_fingerprint())) }}
{%- endmacro %}

{#-
    True when the rows of the model being built (`this`) carry the build
    fingerprint `fingerprint` in their `build_fingerprint` column. Every row
    carries the fingerprint of the build that made it, and a build only adds
    rows of its own fingerprint, so one row tells. An empty table has
    nothing to keep (rebuilding it is free), and a table from before the
    column (an upgrade) is rebuilt: append_new_columns adds it first.
    Asked before the build writes the table (the model's SQL, its pre-hooks,
    its strategy, columns_settled), and worked out once per model and
    invocation: the typed orders asked four times, with two catalog queries each.
-#}
{% macro rows_built_under(fingerprint) -%}
    {{- return(memoized('rows_built_under:' ~ model.unique_id ~ ':' ~ fingerprint, compute_rows_built_under, [fingerprint])) -}}
{%- endmacro %}

{% macro compute_rows_built_under(fingerprint) -%}
    {#- By the row's JSON: null, not an error, when a table from before the column lacks it. -#}
    {%- set built = run_query(
        "select to_jsonb(built) ->> 'build_fingerprint' from " ~ this ~ " as built limit 1"
    ) -%}
    {{ return(built.rows | length == 1 and built.rows[0][0] == fingerprint) }}
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
    {#- An --empty build keeps what the last build read (is_empty_build); one
        that makes the table anew (fresh, --full-refresh) records its empty read. -#}
    {%- set keep_read = is_empty_build() and is_incremental() -%}
    {%- if not keep_read and execute and this is not none and is_incremental() %}
    -- One build at a time changes the table (readers are not blocked): two
    -- builds computing the same changed ids would otherwise both insert them.
    lock table {{ this }} in exclusive mode;
    {%- endif %}
    {%- if not keep_read %}
    drop table if exists {{ raw_orders_read_relation() }};
    {%- endif %}
    create unlogged table {{ "if not exists" if keep_read }} {{ raw_orders_read_relation() }} as
    select
        order_id::text as order_key,
        {{ raw_row_version('raw_orders', source_relation) }} as raw_row_version
    from {{ relation_as(source_relation, 'raw_orders') }}
    {%- if not keep_read %};
    drop table if exists {{ changed_orders_relation() }};
    {%- if orders_build_by_change() %}
    -- Versions are unique on each side (one per raw row), so a version on
    -- one side only is a row added, changed or deleted since the last build.
    -- Matched with the order id too: a rewrite of the table (VACUUM FULL)
    -- keeps xmin and compacts ctids, so a row can take over the version a
    -- deleted row written by the same transaction had; an id whose versions
    -- all match is one whose rows are exactly those of the last build.
    create unlogged table {{ changed_orders_relation() }} as
    {%- if raw_source_has_row_versions(source_relation) %}
    select coalesce(read.order_key, built.order_id) as order_id
    from {{ raw_orders_read_relation() }} as read
    full outer join (select order_id, raw_row_version from {{ this }}) as built
        on read.raw_row_version = built.raw_row_version and read.order_key = built.order_id
    where
        (read.raw_row_version is null or built.raw_row_version is null)
        and coalesce(read.order_key, built.order_id) is not null
    {%- else %}
    -- Hashes of the text (a source without row versions) repeat for
    -- identical copies: compare, per id, how many rows carry each hash.
    with read_copies as (
        select order_key as order_id, raw_row_version, count(*) as copies
        from {{ raw_orders_read_relation() }}
        where order_key is not null
        group by 1, 2
    ),

    built_copies as (
        select order_id, raw_row_version, count(*) as copies
        from {{ this }}
        where order_id is not null
        group by 1, 2
    )

    select coalesce(read_copies.order_id, built_copies.order_id) as order_id
    from read_copies
    full outer join built_copies
        on
            read_copies.order_id = built_copies.order_id
            and read_copies.raw_row_version = built_copies.raw_row_version
    where read_copies.copies is distinct from built_copies.copies
    {%- endif %}
    union
    select order_id from {{ this }} where rejection_reason = 'future_order_time' and order_id is not null;
    analyze {{ changed_orders_relation() }};
    {{ record_unverified_orders(by_change=true) }};
    {{ record_changed_symbols(by_change=true) }}
    {%- else %};
    {{ record_unverified_orders(by_change=false) }};
    {{ record_changed_symbols(by_change=false) }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#-
    The raw rows the model types, as a list of filters, one per branch of a
    `union all` of the model's select over the raw table: one branch and no
    filter in a full build. A build by change types the rows of the changed
    ids, and the rows without an order id that the build read (always
    retyped: one written since must not land before the read counts it).
    Two branches, each a semi join, not one filter `in (...) or ...`: under
    an `or` PostgreSQL cannot make a subquery a join (once the changed ids
    outgrow work_mem, a raw table reloaded whole, it scans them once per raw
    row: minutes at 1M rows), and a left join to each with the `or` after
    them reads every raw row at every build (0.75 s at 1M rows, for 1,000
    changed ids). Apart, the changed ids' rows are found by the raw table's
    index on the order id when it has one. The id-less branch is dropped by
    the planner when the column is declared not null; otherwise it is read
    only if the build read an id-less row (the `exists` is checked once,
    before the raw table is scanned for them).
-#}
{% macro raw_rows_to_type(order_id, raw_row_version) -%}
    {%- if not orders_build_by_change() -%}
        {{ return(['']) }}
    {%- endif -%}
    {%- set read = raw_orders_read_relation() -%}
    {{ return([
        'where ' ~ order_id ~ '::text in (select changed_ids.order_id from '
            ~ changed_orders_relation() ~ ' as changed_ids)',
        'where ' ~ order_id ~ ' is null'
            ~ ' and exists (select from ' ~ read ~ ' as read where read.order_key is null)'
            ~ ' and ' ~ raw_row_version ~ ' in (select read.raw_row_version from ' ~ read
            ~ ' as read where read.order_key is null)',
    ]) }}
{%- endmacro %}

{#-
    Post-hook: fresh statistics after a full build, or when the build retyped
    a tenth of the rows or more; a build that retyped a few orders leaves
    them to autovacuum (a whole-table sample cost about half a second). A
    tenth, not half as for the per-symbol models: a bulk load of new orders
    changes what every model after staging is planned on (see the header of
    base_trading_bot__orders), where a symbol's rows rewritten keep their shape.
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
    {%- if is_empty_build() %}
    -- An --empty build adds its no rows and deletes nothing (is_empty_build).
    {%- elif orders_build_by_change() %}
    -- Two statements, not `is null or in (subquery)`: see raw_rows_to_type.
    delete from {{ arg_dict['target_relation'] }} where order_id is null;
    delete from {{ arg_dict['target_relation'] }} as built
    using {{ changed_orders_relation() }} as changed_ids
    where built.order_id = changed_ids.order_id;
    {%- else %}
    delete from {{ arg_dict['target_relation'] }};
    {%- endif %}
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
    {%- if orders_build_by_change() and not is_empty_build() %};
    -- ...and the symbols of the rows that replace them.
    {{ record_changed_symbols(by_change=true, typed_orders=arg_dict['target_relation']) }}
    {%- endif %}
{%- endmacro %}

{#-
    The symbols whose fills the typed orders' builds changed, kept beside
    them until int_fill_fingerprints reads them (macros/fill_fingerprints.sql):
    it then fingerprints those symbols again instead of every fill (a pass
    over all of them cost about 0.3 s of a five-minute build at 1M fills).
    A log, not the last build's list, so that staging built twice before the
    fingerprints (a selection, a failed run) loses nothing. Written in the
    typed orders' own transaction, so it cannot miss a change they commit:
    a build by change adds the symbols of the rows it deletes (here, before
    the strategy runs) and of the rows it inserts (the strategy), both found
    by a semi join on the changed ids (a whole reload can change a million);
    any other build rewrites every row and adds a null, which stands for
    every symbol. A superset is harmless: a symbol fingerprinted again unchanged is then
    left alone by the per-symbol models.
-#}
{% macro changed_symbols_relation(model=this) -%}
    {{ adapter.quote(model.schema) }}.{{ adapter.quote(model.identifier ~ '__changed_symbols') }}
{%- endmacro %}

{% macro record_changed_symbols(by_change, typed_orders=this) -%}
    create table if not exists {{ changed_symbols_relation() }} (symbol text);
    {%- if by_change %}
    insert into {{ changed_symbols_relation() }} (symbol)
    select built.symbol
    from {{ typed_orders }} as built
    where
        built.order_id in (select changed_ids.order_id from {{ changed_orders_relation() }} as changed_ids)
        -- A row without a symbol is no fill (and a null means every symbol).
        and built.symbol is not null
    -- Each symbol once, however many builds wait for the fingerprints.
    except
    select logged.symbol from {{ changed_symbols_relation() }} as logged
    {%- else %}
    insert into {{ changed_symbols_relation() }} (symbol)
    select null where not exists (select from {{ changed_symbols_relation() }} as logged where logged.symbol is null)
    {%- endif %}
{%- endmacro %}
