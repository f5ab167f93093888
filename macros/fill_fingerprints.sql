{#-
    int_fill_fingerprints, kept up to date from staging's log of changed
    symbols instead of read from every fill at every build.

    The typed orders' builds log, in their own transaction, the symbols
    whose rows they change (a null for "every symbol" when they rewrite
    every row: changed_symbols_relation in macros/incremental_by_order.sql).
    An incremental build of the fingerprints takes the log's entries
    (deleting them, in its transaction: a failed build leaves them for the
    next) and fingerprints those symbols again, their fills found by the
    symbol index; a symbol with no fill left loses its row. Every symbol is
    fingerprinted again when the log holds a null or the table was built
    under another build fingerprint (the model's code, the staging code
    upstream of it, `as_of`: build_fingerprint), and a full build (first,
    `--full-refresh`) reads every fill and empties the log. An `--empty`
    build takes nothing and changes no row.
-#}

{#- The symbols this build fingerprints again: a temporary table, gone at commit. -#}
{% macro symbols_to_fingerprint() -%}
    {{ adapter.quote('int_fill_fingerprints__symbols') }}
{%- endmacro %}

{#- What the rows are computed under (build_fingerprint); empty in a unit test, which has no graph to walk. -#}
{% macro fill_fingerprints_built_under() -%}
    {{- build_fingerprint() if graph.get('nodes') else '' -}}
{%- endmacro %}

{#- Pre-hook: take the logged symbols (see above); `fills` is the fills model. -#}
{% macro take_changed_symbols(typed_orders, fills) -%}
    {%- if not execute or is_empty_build() -%}
    select 1 /* an --empty build takes no symbol and changes no row */
    {%- else -%}
    {%- set log = changed_symbols_relation(typed_orders) -%}
    create table if not exists {{ log }} (symbol text);
    {%- if is_incremental() %}
    create temporary table {{ symbols_to_fingerprint() }} on commit drop as
    with taken as (
        delete from {{ log }} returning symbol
    ),

    every_symbol as (
        -- A null taken, or rows of another build fingerprint: those built and those with fills.
        select
            {%- if rows_built_under(fill_fingerprints_built_under()) %}
            exists (select from taken where taken.symbol is null) as wanted
            {%- else %}
            true as wanted
            {%- endif %}
    )

    select taken.symbol from taken where taken.symbol is not null
    union
    select built.symbol from {{ this }} as built where (select wanted from every_symbol)
    union
    select fills.symbol from {{ fills }} as fills where (select wanted from every_symbol);
    analyze {{ symbols_to_fingerprint() }}
    {%- else %}
    -- Every fill is read: nothing logged is left to take.
    delete from {{ log }}
    {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- In an incremental build, the filter to the symbols taken; nothing otherwise. -#}
{% macro where_symbol_to_fingerprint() -%}
    {%- if is_incremental() and not is_empty_build() -%}
        where symbol = any(array(select taken.symbol from {{ symbols_to_fingerprint() }} as taken))
    {%- endif -%}
{%- endmacro %}

{#-
    The strategy: the taken symbols' rows replaced by their new ones (a
    symbol with no fill left has none). Read by dbt's incremental
    materialization as incremental_strategy='replace_fingerprinted_symbols'.
-#}
{% macro get_incremental_replace_fingerprinted_symbols_sql(arg_dict) -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- if not is_empty_build() %}
    delete from {{ arg_dict['target_relation'] }} as built
    where built.symbol in (select taken.symbol from {{ symbols_to_fingerprint() }} as taken);
    {%- endif %}
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
