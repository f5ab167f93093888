{#-
    Post-hook of the tables that builds read a few symbols of at a time (the
    typed orders, the per-symbol incremental models): an index on `column`
    (`symbol`; the typed orders also `order_id`), made when the table has
    none whose first column it is. A five-minute build recomputes a few of
    hundreds of symbols; without it every model of such a build scanned
    whole tables to find them (0.2-0.4 s each at 1M fills, against 10-60 ms).
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
{% macro ensure_index(column='symbol', where=none) -%}
    {%- if execute and this is not none %}
    do $ensure_index$
    begin
        if not exists (
            select 1
            from pg_index as indexes
            inner join pg_attribute as columns
                on indexes.indrelid = columns.attrelid and columns.attnum = indexes.indkey[0]
            where
                indexes.indrelid = {{ dbt.string_literal(this | string) }}::regclass
                and columns.attname = {{ dbt.string_literal(column) }}
        ) then
            execute {{ dbt.string_literal(
                'create index on ' ~ this ~ ' (' ~ column ~ ')' ~ (' where ' ~ where if where else '')
            ) }};
        end if;
    end
    $ensure_index$
    {%- endif %}
{%- endmacro %}
