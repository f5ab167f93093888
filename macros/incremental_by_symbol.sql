{#-
    Incremental builds by symbol, for models whose rows of one symbol depend
    only on that symbol's fills (FIFO never crosses symbols).

    `int_fill_fingerprints` holds, per symbol, a fingerprint of its fills (a
    sum of row hashes: any new, late, corrected, deleted or re-statused fill
    changes it). Each incremental model records, in the same transaction as
    its own rows, the fingerprints it was built from (table
    `incremental_symbol_state` beside it). The next build recomputes only the
    symbols whose fingerprint differs, disappeared or is new, and the
    `replace_changed_symbols` strategy deletes those symbols' rows and inserts
    the recomputed ones. Sturdier than a time watermark: a fill stamped in the
    past or deleted by reconciliation changes its symbol's fingerprint too.

    The build fingerprint covers what would change every row: the model's
    code, its enforced contract and those of the models upstream (the
    columns' names and types: contract_signature), and the code of every
    model upstream of it (a release that changes
    how int_closed_trades computes a trade must reach fct_fills' kept rows
    too), the FIFO order, `allocation_version`, `fifo_dust`, `as_of` and the
    variables a model lists in `meta.build_fingerprint_vars`, and the
    content of the seeds it or a model upstream reads (the trigger notional
    map infers triggers). When it differs from the recorded one, every row
    is rebuilt, never mixed.
    `--full-refresh` rebuilds everything as usual.
-#}

{% macro symbol_state_relation(schema=none) -%}
    {{ adapter.quote(schema or this.schema) }}.incremental_symbol_state
{%- endmacro %}

{#- Worked out once per model and invocation (memoized): a build asks for it several times. -#}
{% macro build_fingerprint() -%}
    {{- return(memoized('build_fingerprint:' ~ model.unique_id, compute_build_fingerprint, [model])) -}}
{%- endmacro %}

{% macro compute_build_fingerprint(model) -%}
    {%- set upstream = [] -%}
    {%- do upstream_models(model, upstream) -%}
    {%- set upstream_code = [] -%}
    {%- set view_macros = [] -%}
    {%- set signatures = [contract_signature(model)] -%}
    {%- for unique_id in upstream | sort -%}
        {%- set node = graph.nodes[unique_id] -%}
        {%- do upstream_code.append(node.raw_code) -%}
        {%- set signature = contract_signature(node) -%}
        {%- do signatures.append(unique_id ~ ':' ~ signature if signature else '') -%}
        {%- do view_macros.extend(macros_computing_view(node)) -%}
    {%- endfor -%}
    {#- Views upstream compute their rows at every read, with macros whose
        code their raw code does not show (the compat allocation id's
        surrogate key): a release changing one changes what this model
        reads. Empty when no view upstream calls one, so such models'
        fingerprints are what they were before views' macros counted. -#}
    {%- set view_macro_code = [] -%}
    {%- do macro_code_of(view_macros | unique | sort, view_macro_code) -%}
    {#- Models without a contract add nothing (their fingerprints are as before contracts counted). -#}
    {%- set contracts = signatures | select | list -%}
    {%- set extra_vars = [] -%}
    {%- for name in (model.config.get('meta') or {}).get('build_fingerprint_vars', []) -%}
        {%- do extra_vars.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {%- set seeds = seed_checksums_of([model.unique_id] + upstream) -%}
    {{- local_md5(
        model.raw_code ~ '|' ~ fifo_order_by() ~ '|' ~ fifo_order_keys() ~ '|'
        ~ var('allocation_version') ~ '|' ~ var('fifo_dust') ~ '|' ~ var('as_of', '')
        ~ '|' ~ row_macros_of_symbol_models()
        ~ '|' ~ extra_vars | join('|')
        ~ '|' ~ upstream_code | join('|')
        ~ ('|' ~ seeds | join('|') if seeds else '')
        ~ ('|' ~ contracts | join('|') if contracts else '')
        ~ ('|' ~ view_macro_code | join('|') if view_macro_code else '')
    ) -}}
{%- endmacro %}

{#-
    The macros a view (or ephemeral model) `node` computes its rows with:
    those of its dependencies its raw code calls by name. Hooks' macros
    (statistics, grants) are left out: they change no row.
-#}
{% macro macros_computing_view(node) -%}
    {%- set called = [] -%}
    {%- if node.config.materialized in ('view', 'ephemeral') -%}
        {%- for macro_id in node.depends_on.macros if (macro_id.split('.')[-1] ~ '(') in node.raw_code -%}
            {%- do called.append(macro_id) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(called) -}}
{%- endmacro %}

{#-
    The seeds the nodes `unique_ids` read, each with dbt's checksum of its
    file (a hash of the rows; of the path alone for a seed over 1 MB, whose
    edits this cannot see), sorted. Empty for a model that reads no seed, so
    its fingerprint is what it was before seeds were counted.
-#}
{% macro seed_checksums_of(unique_ids) -%}
    {%- set found = [] -%}
    {#- The graph is empty while dbt parses the hooks. -#}
    {%- for unique_id in (unique_ids if execute else []) -%}
        {%- for parent in graph.nodes[unique_id].depends_on.nodes
            if parent.startswith('seed.') and (parent ~ '=' ~ graph.nodes[parent].checksum.checksum) not in found -%}
            {%- do found.append(parent ~ '=' ~ graph.nodes[parent].checksum.checksum) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(found | sort) -}}
{%- endmacro %}

{#- Adds to `found` the unique ids of every model upstream of `node`. -#}
{% macro upstream_models(node, found) -%}
    {%- for parent in node.depends_on.nodes if parent.startswith('model.') and parent not in found -%}
        {%- do found.append(parent) -%}
        {%- do upstream_models(graph.nodes[parent], found) -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    The macros the per-symbol models compute their rows with, as they render:
    a release that changes one (a daily measure, the trade outcome, the
    rounding...) changes every model's build fingerprint, so no symbol keeps
    rows of the old definition. tests/pipeline/test_layering.py fails when a
    per-symbol model calls a project macro that is neither here nor part of
    the incremental machinery. Macros that views upstream compute with (the
    compat allocation id's surrogate key) count through
    macros_computing_view instead, for the models reading those views only.
-#}
{% macro row_macros_of_symbol_models() -%}
    {{- daily_measures_of_fills() ~ '|' ~ until_as_of('c') ~ '|' ~ utc_date('c')
        ~ '|' ~ is_closed_trade('m') ~ '|' ~ trade_outcome('p', 'm')
        ~ '|' ~ round_ratio('r') ~ '|' ~ fee_share('f', 'p', 'w') -}}
{%- endmacro %}

{#-
    The model's recorded per-symbol state that was built under the current
    build fingerprint (none when the fingerprint changed: every row is rebuilt).
-#}
{% macro current_build_state() -%}
    select symbol, fingerprint
    from {{ symbol_state_relation() }}
    where model_name = '{{ this.identifier }}' and build_fingerprint = '{{ build_fingerprint() }}'
{%- endmacro %}

{#- The strategies whose models keep rows between builds and record per-symbol state. -#}
{% macro symbol_state_strategies() -%}
    {{ return(['replace_changed_symbols', 'replace_from_cut']) }}
{%- endmacro %}

{#- The symbols whose rows must be recomputed: fingerprint changed, new, or gone. -#}
{% macro changed_symbols(fingerprints) -%}
    select coalesce(current_fills.symbol, built.symbol) as symbol
    from {{ relation_as(fingerprints, 'current_fills') }}
    full outer join ({{ current_build_state() }}) as built on current_fills.symbol = built.symbol
    where current_fills.fingerprint is distinct from built.fingerprint
{%- endmacro %}

{#-
    In an incremental build, the filter to the changed symbols; nothing
    otherwise. An array, not `in (select ...)`: PostgreSQL cannot tell how
    few symbols a full join of fingerprints will keep (it guesses all of
    them) and then scans the whole table, where `= any(array)` is an index
    condition on the symbol index (macros/table_indexes.sql).
-#}
{% macro where_symbol_changed() -%}
    {%- if is_incremental() -%}
        {{ symbol_changed_filter('where') }}
    {%- endif -%}
{%- endmacro %}

{% macro symbol_changed_filter(keyword='where', column='symbol') -%}
    {{ keyword }} {{ column }} = any(array({{ changed_symbols(ref('int_fill_fingerprints')) }}))
{%- endmacro %}

{#-
    The state table of a schema, created when missing, with the columns a
    table made by an earlier release lacks. Run once per schema by the
    on-run-start hook (`create_symbol_states`), before any model: models of
    one schema build in parallel and share the table, and on a fresh schema
    two of them creating it at once made one fail on PostgreSQL's catalog
    (`create table if not exists` is not atomic). Altered only when a column
    is missing: `alter table ... add column if not exists` locks the table
    whole even when there is nothing to add.
-#}
{% macro symbol_state_ddl(schema=none) -%}
    {%- set state = symbol_state_relation(schema) | trim -%}
    {#- No rows: the table does not exist yet, and the create below has every column. -#}
    {%- set missing_columns = [] -%}
    {%- if execute -%}
        {%- set present = run_query(
            "select attname::text from pg_attribute where attrelid = to_regclass("
            ~ dbt.string_literal(state) ~ ") and attnum > 0 and not attisdropped"
        ) -%}
        {%- if present.rows -%}
            {%- for column in state_columns_added_later() if column.split(' ')[0] not in present.columns[0].values() -%}
                {%- do missing_columns.append(column) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif %}
    create table if not exists {{ state }} (
        model_name text not null,
        symbol text not null,
        fingerprint numeric not null,
        build_fingerprint text not null,
        -- The dbt invocations that last recomputed the symbol and last built the model.
        recomputed_by text,
        last_built_by text,
        -- The invocation whose tests passed over the symbol's rows as they are
        -- now (null until then: mark_verified_symbols), and what they were
        -- (symbol_marks_fingerprint): a mark earned under other tests is not trusted.
        verified_by text,
        verified_under text,
        -- How many fills the symbol had and the latest one's time: the fills
        -- after it are a tail an appending model can add (mark_appended_symbols).
        fills bigint,
        last_fill_at timestamptz,
        -- The invocation that appends to the symbol's rows rather than recomputing them.
        appended_in text,
        primary key (model_name, symbol)
    );
    {%- for column in missing_columns %}
    -- A table made before this column existed gains it.
    alter table {{ state }} add column if not exists {{ column }};
    {%- endfor %}
{%- endmacro %}

{#- The state columns a table made by an earlier release may lack, with their types. -#}
{% macro state_columns_added_later() -%}
    {{ return([
        'recomputed_by text', 'last_built_by text', 'verified_by text',
        'fills bigint', 'last_fill_at timestamptz', 'appended_in text', 'verified_under text'
    ]) }}
{%- endmacro %}

{#-
    on-run-start: the state table of every schema holding a selected model
    that keeps rows between builds, made before any model runs.
-#}
{% macro create_symbol_states() -%}
    {%- set schemas = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.unique_id in selected_resources
                and node.config.incremental_strategy in symbol_state_strategies()
                and node.schema not in schemas -%}
            {%- do schemas.append(node.schema) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for schema in schemas %}
    {{ symbol_state_ddl(schema) }}
    {%- else %}
    select 1 /* no selected model keeps state */
    {%- endfor %}
{%- endmacro %}

{#-
    Pre-hook, inside the model's transaction (the state table was made by
    the on-run-start hook): one build at a time changes the model, and a
    model built from nothing starts with no state.

    A selection that leaves the fingerprints out compares with them as the
    last build left them. When that was an `--empty` build they are empty
    (and the staging views read nothing), so every symbol this model holds
    would look gone: its rows would be deleted and published empty until a
    whole build. The build stops instead, saying what to run.
-#}
{% macro ensure_symbol_state() -%}
    {%- if not flags.FULL_REFRESH and load_relation(this) is not none %}
    -- One build at a time changes the table (readers are not blocked): two
    -- builds recomputing the same symbols would otherwise both insert them.
    lock table {{ this }} in exclusive mode;
    {%- if execute and not is_empty_build()
        and 'model.' ~ project_name ~ '.int_fill_fingerprints' not in selected_resources %}
    do $fingerprints_left_out$
    begin
        if not exists (select 1 from {{ ref('int_fill_fingerprints') }})
            and exists (select 1 from {{ symbol_state_relation() }} where model_name = '{{ this.identifier }}') then
            raise exception 'int_fill_fingerprints is empty (left so by a dbt build --empty?) and this selection does not rebuild it: {{ this.identifier }} would drop every symbol it holds. Run a whole dbt build, or select +{{ this.identifier }}.';
        end if;
    end
    $fingerprints_left_out$;
    {%- endif %}
    {%- endif %}
    {%- if flags.FULL_REFRESH or load_relation(this) is none %}
    -- Built from nothing: no symbol's state stands (rolled back with the build if it fails).
    delete from {{ symbol_state_relation() }} where model_name = '{{ this.identifier }}'
    {%- endif %}
{%- endmacro %}

{#-
    Post-hook, inside the model's transaction: what this build was made from,
    and which symbols it recomputed (all of them in a full build). Their rows
    are new, so they lose any verification (macros/verified_symbols.sql)
    until this or a later invocation's tests pass over them.
-#}
{% macro record_symbol_state(fingerprints) -%}
    {%- if is_empty_build() %}
    -- An --empty build leaves the state as it is (is_empty_build).
    select 1
    {%- else %}
    -- A full build cleared the state (pre-hook) and a changed build
    -- fingerprint matches no recorded symbol: then every symbol is changed.
    create temporary table recomputed_symbols on commit drop as
    {{ changed_symbols(fingerprints) }};
    create temporary table kept_state on commit drop as
    select symbol, recomputed_by, verified_by, verified_under, fills
    from {{ symbol_state_relation() }} where model_name = '{{ this.identifier }}';
    delete from {{ symbol_state_relation() }} where model_name = '{{ this.identifier }}';
    insert into {{ symbol_state_relation() }} (
        model_name, symbol, fingerprint, fills, last_fill_at, build_fingerprint,
        recomputed_by, last_built_by, verified_by, verified_under
    )
    select
        '{{ this.identifier }}',
        fingerprints.symbol,
        fingerprints.fingerprint,
        case
            when recomputed_symbols.symbol is null then kept_state.fills
            -- Rows written from a parent built from other fills (a partial
            -- selection) are never appended to (mark_appended_symbols).
            when {{ parents_built_from('fingerprints.symbol', 'fingerprints.fingerprint') }} then fingerprints.fills
        end,
        fingerprints.last_fill_at,
        '{{ build_fingerprint() }}',
        case
            when recomputed_symbols.symbol is not null then '{{ invocation_id }}'
            else kept_state.recomputed_by
        end,
        '{{ invocation_id }}',
        -- Rows just written have passed no test yet.
        case when recomputed_symbols.symbol is null then kept_state.verified_by end,
        case when recomputed_symbols.symbol is null then kept_state.verified_under end
    from {{ relation_as(fingerprints, 'fingerprints') }}
    left join recomputed_symbols on fingerprints.symbol = recomputed_symbols.symbol
    left join kept_state on fingerprints.symbol = kept_state.symbol;
    {{ analyze_when_much_changed(
        'select count(*) from recomputed_symbols', 'select count(*) from ' ~ fingerprints
    ) }}
    {%- endif %}
{%- endmacro %}

{#-
    A condition: every per-symbol model the current model reads has state for
    the symbol recorded from the fingerprint given (`true` when it reads none).
-#}
{% macro parents_built_from(symbol, fingerprint) -%}
    true
    {%- for parent_id in model.depends_on.nodes if parent_id in graph.nodes
        and graph.nodes[parent_id].config.incremental_strategy in symbol_state_strategies() %}
    {%- set parent = graph.nodes[parent_id] %}
    and exists (
        select 1 from {{ symbol_state_relation(parent.schema) }} as parent_state
        where
            parent_state.model_name = '{{ parent.alias or parent.name }}'
            and parent_state.symbol = {{ symbol }}
            and parent_state.fingerprint = {{ fingerprint }}
    )
    {%- endfor %}
{%- endmacro %}

{#-
    The strategy: drop the changed symbols' rows (all rows when the build
    fingerprint changed), insert the recomputed ones. Read by dbt's
    incremental materialization as incremental_strategy='replace_changed_symbols'.
-#}
{% macro get_incremental_replace_changed_symbols_sql(arg_dict) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- if not is_empty_build() %}
    -- Separate deletes, not one with `or`: each can use the symbol index, or
    -- none of them runs.
    delete from {{ arg_dict['target_relation'] }}
    {{ symbol_recomputed_filter('where') }};
    -- No state of this build fingerprint: every row goes (one check, not one per row).
    delete from {{ arg_dict['target_relation'] }}
    where not exists ({{ current_build_state() }});
    {%- set append_replaces = (model.config.get('meta') or {}).get('append_replaces') %}
    {%- if append_replaces %}
    -- An appended symbol's kept rows that the tail changes (open lots) are
    -- replaced by key; the symbol's other rows stay.
    delete from {{ arg_dict['target_relation'] }}
    {{ symbol_appended_filter('where') }}
    and {{ append_replaces }} in (select {{ append_replaces }} from {{ arg_dict['temp_relation'] }});
    {%- endif %}
    {%- if arg_dict['unique_key'] %}
    -- A model that also recomputes rows outside the changed symbols
    -- (unique_key set) replaces them by key.
    delete from {{ arg_dict['target_relation'] }}
    where {{ arg_dict['unique_key'] }} in (select {{ arg_dict['unique_key'] }} from {{ arg_dict['temp_relation'] }});
    {%- endif %}
    {%- endif %}
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{#-
    SQL statements rendered apart, run as one: the non-empty ones joined by
    semicolons (a hook is a statement, and a round trip of dbt's).
-#}
{% macro one_statement(statements) -%}
    {{- statements | map('trim') | reject('equalto', '') | join(';\n') -}}
{%- endmacro %}

{#-
    Config shared by the per-symbol incremental models. A release that
    changes a model's columns changes its build fingerprint too, so every row
    is rebuilt: `append_new_columns` (what dbt allows with a contract) adds
    the new columns first instead of failing the scheduled build until
    someone runs --full-refresh. A column a release stops writing stays,
    empty for new rows, until a --full-refresh; the model lists it in
    `retired_columns` so that its constraints go (macros/relax_retired_columns.sql).
-#}
{% macro symbol_incremental_config(retired_columns=[], appends=none, append_replaces=none) -%}
    {#- Calls rendered at run time, in order; each side's hooks run as one
        statement (one_statement): every statement costs a five-minute build
        about 10 ms of dbt's own work besides its SQL. -#}
    {%- set pre_hook = ['relax_retired_columns(' ~ retired_columns ~ ')', 'ensure_symbol_state()'] -%}
    {%- set index_columns = ['symbol'] -%}
    {%- if appends -%}
        {%- do pre_hook.append('mark_appended_symbols("' ~ appends ~ '")') -%}
        {#- A kept row's time column (not an expression): the appends check
            reads a symbol's latest one by the index, not every row of it. -#}
        {%- if modules.re.fullmatch('kept\\.[a-z_]+', appends) -%}
            {%- do index_columns.append(appends[5:]) -%}
        {%- endif -%}
    {%- endif -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='replace_changed_symbols',
        on_schema_change='append_new_columns',
        pre_hook=['{{ one_statement([' ~ pre_hook | join(', ') ~ ']) }}'],
        post_hook=["{{ one_statement([record_symbol_state(ref('int_fill_fingerprints')), ensure_index(" ~ index_columns ~ ")]) }}"]
    ) }}
    {%- if append_replaces %}
    {#- The key of the kept rows an appended tail replaces (read by the strategy). -#}
    {{ config(meta={'append_replaces': append_replaces}) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Appending. Most five-minute changes are new fills after a symbol's
    latest one. FIFO is causal: fills after the last build's latest one
    cannot change what that build allocated, and they see only what was
    left of each lot. A model built with `appends=true` (the FIFO models)
    then computes a symbol's tail only (its open lots and the new fills)
    and keeps the rest of its rows, instead of recomputing its whole
    history. Any other change of the symbol recomputes it.

    Pre-hook, inside the model's transaction, after ensure_symbol_state: a
    changed symbol is appended in this invocation when its state was built
    under the current build fingerprint and its fills now, less those after
    the state's `last_fill_at`, are exactly the fills it was built from:
    same count and same fingerprint (a sum of row hashes, so the sum over
    the tail is subtracted). A fill stamped at or before `last_fill_at`
    (late, corrected, deleted, re-statused) breaks that, and so does a
    fixed `as_of` (never appended: its cut is part of every row). The mark
    lives in the state row (`appended_in`); record_symbol_state rewrites
    the row after the build, so it holds for this invocation only, and the
    model's SQL, the strategy and nothing else read it.

    Two more checks keep a partial selection from making an append wrong
    for good (review): the kept rows hold nothing after `last_fill_at`
    (`latest_fill_time`, an expression over a kept row: staging can have
    been rebuilt without the fingerprints, so a model read fills the state
    does not count, and appending them again would count them twice); and
    record_symbol_state leaves `fills` empty, so that the symbol is never
    appended to, when a per-symbol model this one reads was not built from
    the same fills (rows written from a stale parent are recomputed at the
    symbol's next change, as before appending).
-#}
{% macro mark_appended_symbols(latest_fill_time) -%}
    {%- if is_incremental() and not is_empty_build() and not as_of_literal() %}
    update {{ symbol_state_relation() }} as state
    set appended_in = '{{ invocation_id }}'
    from (
        -- Per changed symbol with state of this build fingerprint: its fills
        -- after the state's latest (the tail), which with what was built
        -- must make up the fills now.
        select
            built.symbol,
            built.last_fill_at
        from {{ symbol_state_relation() }} as built
        inner join {{ relation_as(ref('int_fill_fingerprints'), 'current_fills') }}
            on built.symbol = current_fills.symbol
        -- Lateral: per changed symbol, its tail alone, read by the typed
        -- orders' index on (symbol, order_time); a join read every fill of
        -- the changed symbols through the symbol index and dropped all but
        -- the tail (130-300 ms for 50 symbols at 1M fills, for 1,000 new).
        cross join lateral (
            select
                count(*) as fills,
                sum(fills_after.fill_hash) as fingerprint
            from {{ relation_as(ref('stg_trading_bot__fills'), 'fills_after') }}
            where fills_after.symbol = built.symbol and fills_after.order_time > built.last_fill_at
        ) as tail
        where
            built.model_name = '{{ this.identifier }}'
            and built.build_fingerprint = '{{ build_fingerprint() }}'
            {{ symbol_changed_filter('and', 'built.symbol') }}
            and tail.fills > 0
            and current_fills.fills - tail.fills = built.fills
            and current_fills.fingerprint - tail.fingerprint = built.fingerprint
        -- A fence: the kept-rows check below runs for these few symbols
        -- only, not for every symbol the state holds.
        offset 0
    ) as candidates
    where
        state.model_name = '{{ this.identifier }}'
        and state.symbol = candidates.symbol
        -- One subquery per candidate, read by the index on the symbol and
        -- the kept time column where it is one (as an anti-join PostgreSQL
        -- hashed every kept row).
        and (
            select coalesce(max({{ latest_fill_time }}) <= candidates.last_fill_at, true)
            from {{ this }} as kept
            where kept.symbol = candidates.symbol
        )
    {%- else %}
    select 1 /* nothing is appended in this build */
    {%- endif %}
{%- endmacro %}

{#-
    The symbols this model appends to in this invocation (mark_appended_symbols),
    with the time of the latest fill they were built from: a select for the
    models, and the filter forms of it. Empty for a model that never appends,
    and for a full build.
-#}
{% macro appended_symbols() -%}
    select symbol, last_fill_at as built_through
    from {{ symbol_state_relation() }}
    where model_name = '{{ this.identifier }}' and appended_in = '{{ invocation_id }}'
{%- endmacro %}

{% macro symbol_appended_filter(keyword='where', column='symbol') -%}
    {{ keyword }} {{ column }} = any(array(select appended.symbol from ({{ appended_symbols() }}) as appended))
{%- endmacro %}

{#-
    Where an appended symbol's lots can have been open at the last build,
    per appended symbol (with its `built_through`): FIFO draws on the oldest
    lot with size left, so every lot older than the newest one that the
    last build's latest sell drew on was used up, and every lot older than
    that sell when it drew on none (nothing was held then). The moment is
    read from `allocations` (the kept allocations, or int_fifo_allocations
    cut at the last build's latest fill) by the (symbol, sell_time) index:
    two index probes per symbol. `-infinity` when no sell came yet.
-#}
{% macro kept_open_from(allocations) -%}
    select
        appended.symbol,
        appended.built_through,
        coalesce(latest_sell.open_from, '-infinity') as open_from
    from ({{ appended_symbols() }}) as appended
    cross join lateral (
        select coalesce(max(kept.buy_time), max(kept.sell_time)) as open_from
        from {{ relation_as(allocations, 'kept') }}
        where
            kept.symbol = appended.symbol
            and kept.sell_time = (
                select max(latest.sell_time) from {{ relation_as(allocations, 'latest') }}
                where latest.symbol = appended.symbol and latest.sell_time <= appended.built_through
            )
    ) as latest_sell
{%- endmacro %}

{#-
    The rows of `relation` (a per-symbol relation upstream: fills, allocations,
    trades, lots) that an appending model computes from: every row of the
    symbols it recomputes (every symbol in a full build) and, of an appended
    symbol, only those whose `time_column` is after its last build's latest
    fill (`since='built_through'`: sells, and the pieces and trades of
    sells) or from the moment its lots can have been open (`since='open_from'`,
    kept_open_from over `allocations`: lots, which the new sells draw on and
    whose kept rows are replaced, `append_replaces`). Read per symbol by
    the relation's (symbol, time) index rather than its whole history.
-#}
{% macro rows_to_compute_from(relation, time_column, since='built_through', allocations=none) -%}
    select * from {{ relation }} {{ where_symbol_recomputed() }}
    {%- if is_incremental() %}
    union all
    select appended_rows.*
    from (
        {{ kept_open_from(allocations) if since == 'open_from' else appended_symbols() }}
    ) as appended
    cross join lateral (
        {{ symbol_rows_from(relation, time_column, 'appended', since) }}
    ) as appended_rows
    {%- endif %}
{%- endmacro %}

{#-
    The body of a lateral subquery: the rows of `relation` of the symbol of
    `outer` (a per-symbol row with `built_through` and, for `open_from`,
    kept_open_from's moment) from that moment on, as one index range.
-#}
{% macro symbol_rows_from(relation, time_column, outer, since='built_through') -%}
    select * from {{ relation_as(relation, 'symbol_rows') }}
    where
        symbol_rows.symbol = {{ outer }}.symbol
        and symbol_rows.{{ time_column }} {{ '>=' if since == 'open_from' else '>' }} {{ outer }}.{{ since }}
    -- A fence: one index range per symbol (pulled up into a join, it
    -- hashed the whole relation: 0.2 s for the typed orders at 1M fills).
    offset 0  -- noqa: AM09
{%- endmacro %}

{#- The changed symbols recomputed from their first fill: changed and not appended. -#}
{% macro symbol_recomputed_filter(keyword='where', column='symbol') -%}
    {{ keyword }} {{ column }} = any(array(
        {{ changed_symbols(ref('int_fill_fingerprints')) }}
        except
        select appended.symbol from ({{ appended_symbols() }}) as appended
    ))
{%- endmacro %}

{#- In an incremental build, the filter to the changed symbols not appended; nothing otherwise. -#}
{% macro where_symbol_recomputed() -%}
    {%- if is_incremental() -%}
        {{ symbol_recomputed_filter('where') }}
    {%- endif -%}
{%- endmacro %}

{#-
    legacy_pnl_discrepancy's sells to compute, from `fills`: every sell in a
    full build; in an incremental one the sells of the changed symbols and
    the kept sells whose row can change without their own symbol changing
    (`kept_sells`, the model's CTE of legacy_kept_sells_to_recompute; none
    when the kept rows cannot be used, legacy_kept_rows_usable).
    `fifo_from_kept_row` tells the second kind: their own symbol did not
    change, so their FIFO columns are those of their kept row.
-#}
{% macro legacy_sells_to_recompute(fills, kept_sells=none) -%}
    select
        *,
        false as fifo_from_kept_row
    from {{ fills }}
    where side = 'sell'
    {%- if kept_sells %} {{ symbol_changed_filter('and') }}
    union all
    select
        *,
        true as fifo_from_kept_row
    from {{ fills }}
    where
        side = 'sell'
        and not {{ symbol_changed_filter('') }}
        and order_id = any(array(select {{ kept_sells }}.sell_order_id from {{ kept_sells }}))
    {%- endif %}
{%- endmacro %}

{#-
    The kept rows (in the model's table `model`) of the sells whose row can
    change without their own symbol changing: those whose legacy parent
    lies in a changed symbol (`legacy_parent_symbol`), and those whose
    parent was missing when a changed symbol now has a fill of that id.
    Sets, read by the model's partial index on the sells whose parent is
    elsewhere (legacy_parent_elsewhere): a `not exists` per sell ran once
    per sell, and at 1M fills whose sells all name a parent (the bot's
    data) it did not finish in a minute.
-#}
{% macro legacy_kept_sells_to_recompute(fills, model) -%}
    select kept.*
    from {{ model }} as kept
    where
        -- A parent in the sell's own symbol changes that symbol.
        {{ legacy_parent_elsewhere('kept') }}
        {{ symbol_changed_filter('and', 'kept.legacy_parent_symbol') }}
    -- A join, not `in (...)` under an `or`: that runs once per kept
    -- row when the changed symbols' fills outgrow work_mem.
    union all
    select kept.*
    from {{ model }} as kept
    inner join {{ fills }} as parents on kept.legacy_parent_id = parents.order_id
    where
        {{ legacy_parent_elsewhere('kept') }}
        and kept.legacy_parent_symbol is null
        {{ symbol_changed_filter('and', 'parents.symbol') }}
{%- endmacro %}

{#- Whether legacy_pnl_discrepancy's kept rows can be kept: incremental, and they say their parent's symbol
    (a table from before `legacy_parent_symbol` computes every sell). -#}
{% macro legacy_kept_rows_usable() -%}
    {{- return(is_incremental() and execute
        and 'legacy_parent_symbol' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list)) -}}
{%- endmacro %}

{#-
    The legacy sells that name a parent in another symbol or a missing one
    (a sell always has a symbol), written as the model's partial index says
    it, so that PostgreSQL can use that index (a percent or two of the sells).
-#}
{% macro legacy_parent_elsewhere(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}legacy_parent_id is not null and {{ prefix }}legacy_parent_symbol is distinct from {{ prefix }}symbol
{%- endmacro %}
