{#-
    Five-minute builds test what changed, not the whole history, for the
    generic tests whose verdict on a row cannot change while the row stays as
    it is.

    A per-symbol incremental model records which symbols' rows have passed
    every test on the model (`verified_by`, macros/verified_symbols.sql) and
    clears the mark whenever it rewrites a symbol. The views that keep one
    row per row of such a model (`meta: {rows_of_symbol_model: true}`) are
    tested under its marks too. Within a `dbt build`:
    - a row-local test (each row passes or fails on its own values: not_null,
      accepted_values, at_least, at_most, buy_not_after_sell) checks the rows
      of the symbols not yet verified;
    - a uniqueness test (unique, unique_combination_of_columns) checks every
      key that a row of those symbols carries, against the whole table: a
      duplicate needs at least one row that changed since the last pass, and
      it may sit in another symbol.
    The typed orders and the staging views over them do the same by order
    id (macros/verified_orders.sql): their tests read the orders retyped
    since the last passing build.
    `dbt test`, a model without that state, and every other test (totals,
    counts, relationships: their verdict depends on other rows or models)
    check everything, as before.
-#}

{#- The generic tests that judge each row alone. -#}
{% macro row_local_tests() -%}
    {{ return(['not_null', 'accepted_values', 'at_least', 'at_most', 'buy_not_after_sell']) }}
{%- endmacro %}

{#-
    For a test on `relation`: a condition keeping the rows not yet verified
    when `relation` is a per-symbol incremental model or a view its marks
    cover, or covered by order marks, and this is a `dbt build`, else `true` (every row). Not in an `--empty` build (its refs are
    subqueries), nor for a test whose verdict is not simply "any failing row
    fails": a warn or error threshold, a severity of warn or another
    failure count would judge a part of the rows as if it were all of them.
-#}
{% macro rows_not_yet_verified(relation) -%}
    {%- set plain_verdict = (config.get('severity') or 'error') | lower == 'error'
        and (config.get('warn_if') or '!= 0') | replace(' ', '') == '!=0'
        and (config.get('error_if') or '!= 0') | replace(' ', '') == '!=0'
        and (config.get('fail_calc') or 'count(*)') | replace(' ', '') | lower == 'count(*)' -%}
    {%- set marked = none -%}
    {%- set by_order = none -%}
    {%- if execute and flags.WHICH == 'build' and not is_empty_build() and plain_verdict and relation is not string -%}
        {%- set marked = symbol_marks_model(relation) -%}
        {%- set by_order = order_marks_of_relation(relation) -%}
    {%- endif -%}
    {%- if marked is not none -%}
        {{- symbols_not_yet_verified([relation]) -}}
    {%- elif by_order is not none -%}
        {{- orders_not_yet_verified(by_order) -}}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#-
    Overrides dbt's where-subquery (the relation a generic test reads, with
    its `where` config): dbt's own, narrowed to the rows not yet verified for
    the row-local tests.
-#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set tested = dbt.default__get_where_subquery(relation) -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {#- Parsing renders this too, with none of the project's macros in reach. -#}
    {%- set unverified = rows_not_yet_verified(relation) | trim
        if execute and test_name in row_local_tests() else 'true' -%}
    {%- if unverified != 'true' -%}
        {%- do return('(select * from ' ~ tested ~ ' where ' ~ unverified ~ ') dbt_unverified_rows') -%}
    {%- else -%}
        {%- do return(tested) -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The rows of `model` whose `columns` values some not-yet-verified row also
    has (every row when everything is checked): the candidates a uniqueness
    test groups. Keys are matched on the first column, by a semi-join (an
    `in` under an `or` would not be one: PostgreSQL then runs the subquery
    once per row when its keys outgrow work_mem). With `null_keys_match`
    (nulls count as equal), the rows whose first column is null are added.
    Keyed by order id on a model covered by order marks, the keys are an
    array instead, so that the order id index finds the rows: the semi-join
    read every typed order (0.15 s at 1M) to find a thousand.
-#}
{% macro rows_sharing_unverified_keys(model, columns, null_keys_match=false) -%}
    {%- set unverified = rows_not_yet_verified(model) | trim -%}
    {%- if unverified == 'true' -%}
        select * from {{ model }}
    {%- else -%}
        {%- set by_order_id = columns[0] == 'order_id' and order_marks_of_relation(model) is not none %}
        select * from {{ model }}
        where {{ columns[0] }} {{ '= any(array(' if by_order_id else 'in (' }}
            select unverified_rows.{{ columns[0] }}
            from {{ model }} as unverified_rows
            where {{ unverified }}
        ){{ ')' if by_order_id }}
        {%- if null_keys_match %}
        union all
        select * from {{ model }} where {{ columns[0] }} is null
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- dbt's unique test, reading only the keys of rows not yet verified in a build (see above). -#}
{% macro postgres__test_unique(model, column_name) -%}
with candidate_rows as (
    {{ rows_sharing_unverified_keys(model, [column_name]) }}
)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from candidate_rows
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}
