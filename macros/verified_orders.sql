{#-
    Which typed orders have passed the staging tests, recorded rather than
    assumed: the by-order counterpart of macros/verified_symbols.sql, for
    the typed orders (incremental by order id, macros/incremental_by_order.sql)
    and the staging views that keep one row of them per row (`meta:
    {rows_of_typed_orders: true}`).

    Two tables beside the typed orders hold the marks:
    - `<model>__unverified_ids`: the order ids retyped since the last build
      whose staging tests all passed. The model's pre-hook adds the ids it
      retypes; `mark_verified_orders`, at the end of a `dbt build` that
      built the views and in which every test on those models passed,
      empties it.
    - `<model>__verified_tests`: the fingerprint of what was tested (the
      views' code, and every test on the models with its arguments and
      config, and the code of the macros they call) when it was last
      emptied. Marks made under other tests or views are not trusted.
    A full build of the typed orders drops both, so every row is unverified
    until a build passes over all of them. Within a `dbt build`, the
    row-local and uniqueness tests on these models then read the unverified
    ids and the rows without an id (macros/tests_of_unverified_rows.sql), so
    a five-minute build tests the orders it retyped, and a retyped order is
    tested by every build until a test passes over it. One invocation per
    schema at a time is assumed, as for the symbols (the scheduled `run`
    holds a lock).
-#}

{% macro unverified_orders_relation(schema, identifier) -%}
    {{ adapter.quote(schema) }}.{{ adapter.quote(identifier ~ '__unverified_ids') }}
{%- endmacro %}

{% macro verified_order_tests_relation(schema, identifier) -%}
    {{ adapter.quote(schema) }}.{{ adapter.quote(identifier ~ '__verified_tests') }}
{%- endmacro %}

{#- The by-order incremental models (their strategy replaces the changed order ids' rows). -#}
{% macro models_by_order() -%}
    {{- return(memoized('models_by_order', find_models_by_order)) -}}
{%- endmacro %}

{% macro find_models_by_order() -%}
    {%- set found = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.incremental_strategy == 'replace_changed_orders' -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#-
    The models whose tests the marks of `by_order` (a by-order model) cover:
    itself and the views over it alone that declare one row per typed order.
-#}
{% macro models_verified_with(by_order) -%}
    {%- set found = [by_order] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and (node.config.meta or {}).get('rows_of_typed_orders')
            and node.config.materialized == 'view' and node.depends_on.nodes == [by_order.unique_id] -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#-
    The data tests on the models `covered_ids`: the generic tests attached to
    one of them, and the singular tests reading one (a test attached to
    another model, like the FIFO invariants reading the fills, judges that
    model's rows, not these).
-#}
{% macro tests_on(covered_ids) -%}
    {%- set found = [] -%}
    {%- for test in graph.nodes.values() if test.resource_type == 'test' -%}
        {%- if test.attached_node in covered_ids
            or (not test.attached_node and test.depends_on.nodes | select('in', covered_ids) | list) -%}
            {%- do found.append(test) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro %}

{#- What the marks of `by_order` were earned under: the covered views' code and every test on the
    models, with its arguments and config, and the code of the macros they call. -#}
{% macro order_marks_fingerprint(by_order) -%}
    {{- return(memoized('order_marks_fingerprint:' ~ by_order.unique_id, compute_order_marks_fingerprint, [by_order])) -}}
{%- endmacro %}

{% macro compute_order_marks_fingerprint(by_order) -%}
    {%- set covered = models_verified_with(by_order) -%}
    {%- set views = covered | rejectattr('unique_id', 'equalto', by_order.unique_id) | list -%}
    {{- return(marks_fingerprint(views, tests_on(covered | map(attribute='unique_id') | list))) -}}
{%- endmacro %}

{#-
    What marks are earned under (order marks here, symbol marks in
    macros/verified_symbols.sql): the code of `views` (the views the marks
    also cover) and each of `tests` with its arguments and config, and the
    code of every macro they call, however deep (macro_code_of): a release
    that changes what a generic test checks (its macro in tests/generic, or
    a macro that macro calls) or what a covered view computes through a
    macro changes the fingerprint as a new test would. Marks made under
    another fingerprint are not trusted.
-#}
{% macro marks_fingerprint(views, tests) -%}
    {%- set parts = [] -%}
    {%- set macros, seen = [], [] -%}
    {%- for node in views -%}
        {%- do parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) -%}
        {%- do macro_code_of(node.depends_on.macros, macros, seen) -%}
    {%- endfor -%}
    {%- for test in tests -%}
        {#- A generic test's checksum is empty: its arguments are in test_metadata, and
            its severity, thresholds and `where` in its config. -#}
        {%- do parts.append(test.unique_id ~ ':' ~ test.checksum.checksum ~ ':'
            ~ tojson(test.test_metadata or {}, sort_keys=true) ~ ':' ~ tojson(test.config or {}, sort_keys=true)) -%}
        {%- do macro_code_of(test.depends_on.macros, macros, seen) -%}
    {%- endfor -%}
    {%- if tests | selectattr('test_metadata') | list -%}
        {#- Every generic test reads its model through get_where_subquery, which dbt
            leaves out of the depends_on of the tests it does not render at parse
            (unique, not_null): the one that runs is walked here. -#}
        {%- do macro_code_of([context.get('get_where_subquery').macro.unique_id], macros, seen) -%}
    {%- endif -%}
    {{- return(local_md5((parts | sort | join('|')) ~ '||' ~ (macros | sort | join('|')))) -}}
{%- endmacro %}

{#-
    Adds to `found` one entry per macro of `macro_ids` and every macro they
    call (a macro's depends_on, as dbt parsed it, dispatch targets
    included): its unique id and the md5 of its code. A package's macros
    are looked up in its namespace, dbt's own and the adapter's in dbt's; a
    root project macro that overrides a dbt macro of the same name (what a
    call without a prefix runs) is walked as well. An id found nowhere is
    kept by name.

    Limits: dbt computes depends_on when it parses, from what the code calls
    with `execute` false, so a call made only under `{% if execute %}` in a
    view or singular test is not seen; and a partial parse recomputes it
    only for the files it re-parses, so a new override or dispatch target
    may be seen only after a full parse.
-#}
{% macro macro_code_of(macro_ids, found, seen=none) -%}
    {%- set seen = [] if seen is none else seen -%}
    {%- for unique_id in macro_ids if unique_id not in seen -%}
        {%- do seen.append(unique_id) -%}
        {%- set package, name = unique_id.split('.')[1], unique_id.split('.')[-1] -%}
        {%- set package_macros = context.get(package) -%}
        {%- set package_macros = package_macros if package_macros is mapping else context.get('dbt') -%}
        {%- set generator = package_macros.get(name) if package_macros is mapping else none -%}
        {%- if generator is not none and generator.macro.unique_id == unique_id -%}
            {%- do found.append(unique_id ~ ':' ~ local_md5(generator.macro.macro_sql)) -%}
            {%- do macro_code_of(generator.macro.depends_on.macros, found, seen) -%}
        {%- else -%}
            {%- do found.append(unique_id) -%}
        {%- endif -%}
        {%- set runs = context.get(name) -%}
        {%- if runs is not none and runs.macro is defined and runs.macro.unique_id != unique_id -%}
            {%- do macro_code_of([runs.macro.unique_id], found, seen) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#-
    For a test on a model covered by order marks: within a `dbt build`, a
    condition keeping the rows whose order id is not yet verified and the
    rows without one; `true` (every row) under `dbt test`, when the marks
    are missing or were made under other tests, or when the unverified ids
    are more than 10,000 and a tenth of the typed orders (an array of that
    many ids, searched per row, would cost more than reading every row).
-#}
{% macro orders_not_yet_verified(by_order, column='order_id') -%}
    {%- set unverified = unverified_orders_relation(by_order.schema, by_order.alias) | trim -%}
    {%- set tests = verified_order_tests_relation(by_order.schema, by_order.alias) | trim -%}
    {%- set typed = adapter.quote(by_order.schema) ~ '.' ~ adapter.quote(by_order.alias) -%}
    {%- set trusted = false -%}
    {%- if execute and flags.WHICH == 'build' -%}
        {%- set present = run_query(
            'select to_regclass(' ~ dbt.string_literal(unverified) ~ ') is not null'
            ~ ' and to_regclass(' ~ dbt.string_literal(tests) ~ ') is not null'
        ) -%}
        {%- if present.rows[0][0] -%}
            {%- set marks = run_query(
                'select (select fingerprint from ' ~ tests ~ ') = ' ~ dbt.string_literal(order_marks_fingerprint(by_order))
                ~ ' and (select count(*) from ' ~ unverified ~ ')'
                ~ ' < (select greatest(reltuples / 10, 10000) from pg_class where oid = to_regclass('
                ~ dbt.string_literal(typed) ~ '))'
            ) -%}
            {%- set trusted = marks.rows[0][0] is true -%}
        {%- endif -%}
    {%- endif -%}
    {%- if trusted -%}
        -- The order ids no passing test has read since they were retyped (an
        -- array, so that the order id index finds their rows), and rows without one.
        ({{ column }} = any(array(select order_id from {{ unverified }})) or {{ column }} is null)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The by-order model whose marks cover the model built as `relation`, or none. -#}
{% macro order_marks_of_relation(relation) -%}
    {%- if relation is string -%}
        {{- return(none) -}}
    {%- endif -%}
    {{- return(memoized('order_marks_of_relation:' ~ relation, find_order_marks_of_relation, [relation])) -}}
{%- endmacro %}

{% macro find_order_marks_of_relation(relation) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
        {{- return(order_marks_of(node)) -}}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{#- The by-order model whose marks cover `node` (a model), or none. -#}
{% macro order_marks_of(node) -%}
    {%- for by_order in models_by_order() -%}
        {%- if node.unique_id in models_verified_with(by_order) | map(attribute='unique_id') | list -%}
            {{- return(by_order) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{#-
    Pre-hook of a by-order model, after the changed ids are fixed: a build
    by change adds them to the unverified ids (when marks exist); any other
    build rewrites every row, so no mark stands.
-#}
{% macro record_unverified_orders(by_change) -%}
    {%- set unverified = unverified_orders_relation(this.schema, this.identifier) -%}
    {%- if by_change %}
    do $unverified$
    begin
        if to_regclass('{{ unverified | replace("'", "''") }}') is not null then
            insert into {{ unverified }} (order_id)
            select order_id from {{ changed_orders_relation() }}
            on conflict do nothing;
        end if;
    end
    $unverified$
    {%- else %}
    drop table if exists {{ unverified }};
    drop table if exists {{ verified_order_tests_relation(this.schema, this.identifier) }}
    {%- endif %}
{%- endmacro %}

{#-
    on-run-end: when this `dbt build` built the views the marks of a
    by-order model cover and ran every data test on them and the model, and
    each passed (or only warned), every order is verified: the unverified
    ids are emptied and the fingerprint recorded. Only a build that made the
    views records it: the fingerprint names the views' code in the project,
    which is what the database holds once they are built (a `dbt test` after
    a change to a view would record the new code over the old views). A
    `dbt test` with a failure takes the marks back (it cannot say which
    orders failed). A partial selection, a failed build, a `dbt run` or an
    `--empty` build changes nothing.
-#}
{% macro mark_verified_orders(results) -%}
    {%- set statements = [] -%}
    {%- if execute and flags.WHICH in ('build', 'test') and not is_empty_build() -%}
        {%- set status_of = result_statuses(results) -%}
        {%- for by_order in models_by_order() -%}
            {%- set covered_ids = models_verified_with(by_order) | map(attribute='unique_id') | list -%}
            {%- set statuses = [] -%}
            {%- set views_built = [] -%}
            {%- for node_id in covered_ids if node_id != by_order.unique_id -%}
                {%- do views_built.append(status_of.get(node_id) == 'success') -%}
            {%- endfor -%}
            {%- for test in tests_on(covered_ids) -%}
                {%- do statuses.append(status_of.get(test.unique_id, 'not run')) -%}
            {%- endfor -%}
            {%- set typed = adapter.get_relation(database, by_order.schema, by_order.alias) -%}
            {%- set unverified = unverified_orders_relation(by_order.schema, by_order.alias) | trim -%}
            {%- set marks = verified_order_tests_relation(by_order.schema, by_order.alias) | trim -%}
            {%- if statuses and typed is not none -%}
                {%- if flags.WHICH == 'build' and false not in views_built
                    and statuses | reject('in', ['pass', 'warn']) | list | length == 0 -%}
                    {%- do statements.append('create table if not exists ' ~ unverified ~ ' (order_id text primary key)') -%}
                    {%- do statements.append('delete from ' ~ unverified) -%}
                    {%- do statements.append('create table if not exists ' ~ marks ~ ' (fingerprint text not null)') -%}
                    {%- do statements.append('delete from ' ~ marks) -%}
                    {%- do statements.append('insert into ' ~ marks ~ ' (fingerprint) values ('
                        ~ dbt.string_literal(order_marks_fingerprint(by_order)) ~ ')') -%}
                {%- elif flags.WHICH == 'test' and statuses | select('in', ['fail', 'error']) | list -%}
                    {%- do statements.append('drop table if exists ' ~ marks) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- statements | join(';\n') if statements else 'select 1 /* no typed orders were verified */' -}}
{%- endmacro %}
