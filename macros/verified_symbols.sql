{#-
    Which symbols' rows of a per-symbol incremental model have passed its
    invariant tests, recorded rather than assumed.

    The state table (macros/incremental_by_symbol.sql) keeps, per model and
    symbol, `verified_by`: the dbt invocation whose tests passed over the
    symbol's rows as they are now. Writing a symbol's rows clears it (so do a
    `dbt run`, a build whose tests then fail and a build killed before its
    tests); `mark_verified_symbols`, run at the end of every build, sets it
    only when every test reading the model passed. A mark also records what
    it was earned under (`verified_under`, `symbol_marks_fingerprint`): the
    tests reading the model, with their arguments and config, the code of
    the views that keep one row per row of the model (`meta:
    {rows_of_symbol_model: true}`), whose tests it covers too, and the code
    of the macros those tests and views call (macro_code_of). A release
    that adds or changes such a test, view or macro trusts no mark: its
    first build tests every symbol. Within a `dbt build`, the
    invariant tests check every symbol not yet verified, so rows that were
    never tested are tested by the next build whatever it recomputes, and a
    five-minute build still checks only the few symbols it rewrote.
-#}

{#-
    For the invariant tests: within a `dbt build`, a condition keeping the
    symbols whose rows in one of `models` (per-symbol incremental models) are
    not verified; `true` (every symbol) under `dbt test`, or when a model has
    no state to trust (new, built by plain SQL, or by a release before
    `verified_by`) or none of its symbols verified. A row without a symbol
    is always kept. A row whose symbol the state does not know is left out:
    every symbol with fills has state once the model is built from the
    current fingerprints, so only a selection that leaves the fingerprints
    out (README: it can miss changes) has such rows.
-#}
{% macro symbols_not_yet_verified(models, column='symbol') -%}
    {%- set verified = [] -%}
    {%- set known = [] -%}
    {%- if execute and flags.WHICH == 'build' -%}
        {%- for model in models -%}
            {%- set node = symbol_marks_model(model) -%}
            {%- set state = verified_state_of(node) if node is not none else none -%}
            {%- set of_model = 'select symbol from ' ~ state ~ ' where model_name = '
                ~ dbt.string_literal(node.alias or node.name if node is not none else '') -%}
            {%- set verified_symbols = of_model ~ ' and verified_by is not null and verified_under = '
                ~ dbt.string_literal(symbol_marks_fingerprint(node) if node is not none else '') -%}
            {#- With no symbol verified yet (a full build), every row is read: the plain test is cheaper. -#}
            {%- if state is not none and run_query(verified_symbols ~ ' limit 1').rows -%}
                {%- do verified.append(verified_symbols) -%}
                {%- do known.append(of_model) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if verified and verified | length == models | length -%}
        -- Trusted: verified in every model the test reads. The symbols to
        -- check are those the models' state knows less those: an array, so
        -- that the symbol index finds their rows (a `not in` of the
        -- verified ones read every row). A row without a symbol is kept.
        ({{ column }} = any(array(
            ({{ known | join(' union ') }})
            except ({{ verified | join(' intersect ') }})
        )) or {{ column }} is null)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    The per-symbol model (a graph node) whose marks cover the relation: the
    model built as `relation`, or the one under a view it covers
    (`views_of_symbol_rows`); none when no marks cover it.
-#}
{% macro symbol_marks_model(relation) -%}
    {{- return(memoized('symbol_marks_model:' ~ relation, find_symbol_marks_model, [relation])) -}}
{%- endmacro %}

{% macro find_symbol_marks_model(relation) -%}
    {%- set models = models_with_verification() -%}
    {%- for node in models if (node.alias or node.name) == relation.identifier and node.schema == relation.schema -%}
        {{- return(node) -}}
    {%- endfor -%}
    {%- for node in models -%}
        {%- set views = [] -%}
        {%- do views_of_symbol_rows(node, views) -%}
        {%- for view in views if (view.alias or view.name) == relation.identifier and view.schema == relation.schema -%}
            {{- return(node) -}}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{#-
    Adds to `found` the views over `model` alone that keep one row per row of
    it, with its symbol (`meta: {rows_of_symbol_model: true}`), and the same
    views over those: the marks of `model` cover their tests.
-#}
{% macro views_of_symbol_rows(model, found) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and (node.config.meta or {}).get('rows_of_symbol_model')
            and node.config.materialized == 'view' and node.depends_on.nodes == [model.unique_id]
            and node not in found -%}
        {%- do found.append(node) -%}
        {%- do views_of_symbol_rows(node, found) -%}
    {%- endfor -%}
{%- endmacro %}

{#- The data tests reading one of `covered_ids` (a per-symbol model and its views). -#}
{% macro tests_reading(covered_ids) -%}
    {%- set found = [] -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and test.depends_on.nodes | select('in', covered_ids) | list -%}
        {%- do found.append(test) -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#- What the marks of `model` (a per-symbol model's node) are earned under (marks_fingerprint). -#}
{% macro symbol_marks_fingerprint(model) -%}
    {{- return(memoized('symbol_marks_fingerprint:' ~ model.unique_id, compute_symbol_marks_fingerprint, [model])) -}}
{%- endmacro %}

{% macro compute_symbol_marks_fingerprint(model) -%}
    {%- set views = [] -%}
    {%- do views_of_symbol_rows(model, views) -%}
    {%- set covered_ids = [model.unique_id] + views | map(attribute='unique_id') | list -%}
    {{- return(marks_fingerprint(views, tests_reading(covered_ids))) -}}
{%- endmacro %}

{#-
    The state table beside `model` when it records verification, else none.
    Asked of the catalog, not of dbt's relation cache: the state table is
    made by a pre-hook, which the cache does not see in the build that made it.
-#}
{% macro verified_state_of(model) -%}
    {%- set state = symbol_state_relation(model.schema) | trim -%}
    {%- set found = run_query(
        "select 1 from pg_attribute where attrelid = to_regclass(" ~ dbt.string_literal(state)
        ~ ") and attname = 'verified_under' and not attisdropped"
    ) -%}
    {{- return(state if found.rows else none) -}}
{%- endmacro %}

{#-
    on-run-end: for each per-symbol incremental model, when this `dbt build`
    or `dbt test` ran every data test that reads the model or a view it
    covers (`views_of_symbol_rows`) and each passed (or only warned, as its
    severity allows), the symbols not yet verified under the current
    fingerprint are verified by this invocation: a build tested exactly
    those, a `dbt test` every symbol. A model with such views is marked only
    by a build that made them: the fingerprint names the views' code in the
    project, which is what the database holds once they are built (a `dbt
    test` after a change to a view would vouch for the new code over the
    old view). In a build, only state this invocation wrote is marked, so
    rows another invocation rewrote meanwhile are not (one invocation per
    schema at a time is still assumed: the scheduled `run` holds a lock). A
    `dbt test` with a failure clears every mark of the model, since it
    cannot say which symbols failed: the next build tests them all again. A
    partial selection, a failed build, a `dbt run` or an `--empty` build
    marks nothing; nor is a model marked whose strategy also rewrites rows
    outside the recomputed symbols (a `unique_key`).
-#}
{% macro mark_verified_symbols(results) -%}
    {%- set statements = [] -%}
    {%- if execute and flags.WHICH in ('build', 'test') and not is_empty_build() -%}
        {%- set status_of = result_statuses(results) -%}
        {%- for model in models_with_verification() -%}
            {%- set views = [] -%}
            {%- do views_of_symbol_rows(model, views) -%}
            {%- set views_built = [] -%}
            {%- for view in views -%}
                {%- do views_built.append(status_of.get(view.unique_id, 'not run')) -%}
            {%- endfor -%}
            {%- set tests = tests_reading([model.unique_id] + views | map(attribute='unique_id') | list) -%}
            {%- set statuses = [] -%}
            {%- for test in tests -%}
                {%- do statuses.append(status_of.get(test.unique_id, 'not run')) -%}
            {%- endfor -%}
            {%- set state = verified_state_of(model) if statuses else none -%}
            {%- if state is not none -%}
                {%- set filter = 'model_name = ' ~ dbt.string_literal(model.alias) -%}
                {%- set fingerprint = dbt.string_literal(marks_fingerprint(views, tests)) -%}
                {%- set written_here = ' and last_built_by = ' ~ dbt.string_literal(invocation_id)
                    if flags.WHICH == 'build' else '' -%}
                {%- if statuses | reject('in', ['pass', 'warn']) | list | length == 0
                    and views_built | reject('equalto', 'success') | list | length == 0 -%}
                    {%- do statements.append(
                        'update ' ~ state ~ ' set verified_by = ' ~ dbt.string_literal(invocation_id)
                        ~ ', verified_under = ' ~ fingerprint ~ ' where ' ~ filter
                        ~ ' and (verified_by is null or verified_under is distinct from ' ~ fingerprint ~ ')'
                        ~ written_here
                    ) -%}
                {%- elif flags.WHICH == 'test' and statuses | select('in', ['fail', 'error']) | list -%}
                    {%- do statements.append('update ' ~ state ~ ' set verified_by = null, verified_under = null where ' ~ filter) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- statements | join(';\n') if statements else 'select 1 /* no per-symbol model was verified */' -}}
{%- endmacro %}

{#-
    The models whose rows carry verification marks: per-symbol incremental
    models whose strategy rewrites only the symbols it recomputed (a model
    with a `unique_key` also replaces rows of other symbols, so no mark on it
    could be trusted).
-#}
{% macro models_with_verification() -%}
    {{- return(memoized('models_with_verification', find_models_with_verification)) -}}
{%- endmacro %}

{% macro find_models_with_verification() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.incremental_strategy == 'replace_changed_symbols'
            and not node.config.unique_key -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#- The status of each node an invocation ran (on-run-end's `results`), by unique id. -#}
{% macro result_statuses(results) -%}
    {%- set status_of = {} -%}
    {%- for result in results -%}
        {%- do status_of.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {{- return(status_of) -}}
{%- endmacro %}
