{#-
    What one invocation works out from the parsed project alone, worked out
    once: which per-symbol or by-order model's marks cover a relation, and
    what those marks are earned under (a hash of the tests and of every
    macro they call). Every test's compilation asked again, about 10 ms of
    Jinja each, repeated for each of the build's hundred-odd tests.

    Kept in `graph`, the one dict that every node of an invocation is given
    (dbt builds it once from the manifest), under the invocation's id: a
    manifest reused by a later invocation starts with an empty memo. Should
    a dbt release hand each node its own copy, the memo only misses and
    every node computes again, as before. Never used while parsing (the
    graph is not built yet), and only for values that cannot change while
    they are asked for: what the parsed project says, and what a model's
    build asks of its own table before writing it (rows_built_under,
    columns_settled), keyed by the model and asked by nothing after.
-#}
{% macro memoized(key, compute, args=[]) -%}
    {%- if not execute -%}
        {{- return(compute(*args)) -}}
    {%- endif -%}
    {%- set memo = graph.get('trades_warehouse_memo') -%}
    {%- if memo is not mapping or memo.get('invocation_id') != invocation_id -%}
        {%- set memo = {'invocation_id': invocation_id} -%}
        {%- do graph.update({'trades_warehouse_memo': memo}) -%}
    {%- endif -%}
    {%- if key not in memo -%}
        {%- do memo.update({key: compute(*args)}) -%}
    {%- endif -%}
    {{- return(memo[key]) -}}
{%- endmacro %}
