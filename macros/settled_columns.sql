{#-
    Whether the incremental model being built keeps the columns it had: its
    table was last written under the model's current build fingerprint.
    That fingerprint covers the model's code, the code upstream of it and
    (contract_signature) its contract's columns and types and those of the
    models upstream; the build that recorded it either made the table or
    ran dbt's schema checks on it. So a settled table has the model's
    columns (plus, after an upgrade, the retired ones a release stopped
    writing), and a build under the same fingerprint has no schema change
    to look for.

    Such a build skips the catalog queries dbt's incremental materialization
    makes at every build: on_schema_change's comparison of the temporary
    table with the target (postgres__process_schema_changes, two queries)
    and the contract's check of the temporary table (postgres__create_table_as,
    two), and the strategy inserts the contract's columns. In a five-minute
    build each query cost 10-20 ms, most of it dbt's own work around the
    round trip, for each of the five models (README, Speed).

    Per model strategy, "last written under this fingerprint" is:
    - per-symbol models: a recorded state of this build fingerprint
      (written by the post-hook, in the build's transaction);
    - the fingerprints and the typed orders: rows carrying it (rows_built_under).
    Worked out once per model and invocation (memoized), before the build
    writes anything, and false outside an incremental build.
-#}
{% macro columns_settled() -%}
    {%- if not execute or this is none or not is_incremental() or is_empty_build() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(memoized('columns_settled:' ~ model.unique_id, compute_columns_settled, [model])) }}
{%- endmacro %}

{% macro compute_columns_settled(model) -%}
    {%- set strategy = model.config.get('incremental_strategy') -%}
    {%- if strategy in symbol_state_strategies() -%}
        {%- set built = run_query('select exists (' ~ current_build_state() ~ ')') -%}
        {{ return(built.rows[0][0] is true) }}
    {%- elif strategy == 'replace_fingerprinted_symbols' -%}
        {{ return(rows_built_under(fill_fingerprints_built_under())) }}
    {%- elif strategy == 'replace_changed_orders' -%}
        {{ return(rows_built_under(staging_build_fingerprint())) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#-
    The enforced contract of `node` as text (each column's name and data
    type, in order), empty without one: part of the build fingerprints, so
    that a contract's change rebuilds every row under the new types and
    names rather than leaving a settled table (columns_settled) unchecked.
-#}
{% macro contract_signature(node) -%}
    {%- if not (node.config.get('contract') or {}).get('enforced') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append(column.name ~ ' ' ~ column.data_type) -%}
    {%- endfor -%}
    {{ return(columns | join(',')) }}
{%- endmacro %}

{#-
    Overrides dbt's process_schema_changes for PostgreSQL (dispatched from the
    incremental materialization). In a settled build (above) the target has
    the model's columns: with a contract they are the contract's, returned
    as the strategy's column list without asking the catalog; without one,
    the temporary table's (one query instead of dbt's two): what the model
    computes, as dbt's own path returns, not the target's, which can still
    hold a column a release stopped writing (append_new_columns never drops
    one). Any other build is dbt's own.
-#}
{% macro postgres__process_schema_changes(on_schema_change, source_relation, target_relation) -%}
    {%- if on_schema_change != 'ignore' and columns_settled() -%}
        {%- if not config.get('contract').enforced -%}
            {{ return(adapter.get_columns_in_relation(source_relation)) }}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in model['columns'].values() -%}
            {%- do columns.append(api.Column.create(column['name'], column['data_type'])) -%}
        {%- endfor -%}
        {{ return(columns) }}
    {%- endif -%}
    {{ return(dbt.default__process_schema_changes(on_schema_change, source_relation, target_relation)) }}
{%- endmacro %}
