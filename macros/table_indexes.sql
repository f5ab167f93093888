{#-
    Post-hook of the tables that builds read a part of at a time: an index
    on `columns`, made when the table has none whose first columns they
    are. The typed orders and the per-symbol incremental models start with
    `symbol` (the typed orders also have `order_id`); the equity curve is
    read from its cut on, by (sell_time, sell_order_id). A five-minute build
    recomputes a few of hundreds of symbols; without it every model of such
    a build scanned whole tables to find them (0.2-0.4 s each at 1M fills,
    against 10-60 ms).
    The rows of a symbol lie together (the typed orders are written in
    symbol order, and the models below them follow that order), so its pages
    are few as well. The typed orders' `order_id` index finds the retyped
    ids' rows and the legacy parents a five-minute build looks up. With
    `where`, the index is partial: the legacy detector's sells whose parent
    is elsewhere, the typed orders' few rejected rows (every build retypes
    those rejected as `future_order_time`, and scanned the whole table to
    find them: 0.2-0.4 s at 1M orders).

    Made by the hook rather than the `indexes` config because that one is
    applied only when dbt creates the table: a table kept by incremental
    builds since an earlier release would never get it. Left unnamed, so
    that PostgreSQL picks a free name (a full refresh renames tables that
    already carry indexes).
-#}
{#-
    `columns` is one column or a list: an index on several serves a lookup
    of the first and a range of the next, as the appends check and the
    tail reads of a five-minute build do (the latest kept row of a symbol,
    its fills after a time), which read every row of the symbol through an
    index on `symbol` alone. The table's index on the first column alone,
    which the wider one makes redundant, is dropped (a table kept since an
    earlier release has one), unless it is unique or partial.
-#}
{% macro ensure_index(columns='symbol', where=none) -%}
    {%- set columns = [columns] if columns is string else columns -%}
    {%- if execute and this is not none %}
    do $ensure_index$
    declare
        superseded regclass;
    begin
        if not exists (
            select 1
            from pg_index as indexes
            where
                indexes.indrelid = {{ dbt.string_literal(this | string) }}::regclass
                {%- for column in columns %}
                and indexes.indkey[{{ loop.index0 }}] = (
                    select attnum from pg_attribute
                    where attrelid = indexes.indrelid and attname = {{ dbt.string_literal(column) }}
                )
                {%- endfor %}
        ) then
            execute {{ dbt.string_literal(
                'create index on ' ~ this ~ ' (' ~ columns | join(', ') ~ ')' ~ (' where ' ~ where if where else '')
            ) }};
        end if;
        {%- if columns | length > 1 %}
        for superseded in
            select indexes.indexrelid::regclass
            from pg_index as indexes
            inner join pg_attribute as first_column
                on indexes.indrelid = first_column.attrelid and first_column.attnum = indexes.indkey[0]
            where
                indexes.indrelid = {{ dbt.string_literal(this | string) }}::regclass
                and indexes.indnkeyatts = 1
                and first_column.attname = {{ dbt.string_literal(columns[0]) }}
                and not indexes.indisunique
                and indexes.indpred is null
        loop
            execute format('drop index %s', superseded);
        end loop;
        {%- endif %}
    end
    $ensure_index$
    {%- endif %}
{%- endmacro %}
