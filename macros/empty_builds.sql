{#-
    True in `dbt build --empty` (or `run --empty`): every ref and source
    reads no rows, so the build checks that the SQL runs and the contracts
    hold. On a warehouse that already holds data, the incremental models of
    this project then leave their tables, their recorded state and what
    staging read as they are, as dbt's own incremental strategies do when
    they get no rows. Ours replace what changed, and an empty read looks as
    if every order and symbol had gone: they would have deleted every row,
    and the next build would have recomputed the whole history.
-#}
{% macro is_empty_build() -%}
    {{ return(true if (execute and flags.EMPTY) else false) }}
{%- endmacro %}

{#-
    `relation as alias` in a from clause, also in an `--empty` build, where
    dbt renders a ref or source as a subquery that already carries an alias
    of its own (`(select ... limit 0) _dbt_limit_subq_x`), so a second alias
    after it is a syntax error.
-#}
{% macro relation_as(relation, alias) -%}
    {%- if relation.limit is defined and relation.limit is not none -%}
        (select * from {{ relation.render() }} limit {{ relation.limit }}) as {{ alias }}
    {%- else -%}
        {{ relation }} as {{ alias }}
    {%- endif -%}
{%- endmacro %}
