{#-
    Pre-hook of an incremental model whose release stopped storing some
    columns. In a table built by an earlier release such a column loses its
    not-null and unique constraints, which would fail every insert without
    it (on_schema_change='append_new_columns' never drops a column); it keeps
    the old rows' values, empty for new rows, until a --full-refresh. It is
    not dropped: views reading it (a BI user's, or the project's own outside
    the build's selection) would have to go with it. Nothing happens to a
    table built without the columns.
-#}
{% macro relax_retired_columns(columns) -%}
    {%- set existing = load_relation(this) if execute else none -%}
    {#- An --empty build changes no stored table (is_empty_build): the next build relaxes them. -#}
    {#- A settled table (macros/settled_columns.sql) was relaxed by the build that settled it. -#}
    {%- if columns and existing is not none and not is_empty_build() and not columns_settled() -%}
        {%- set stored = adapter.get_columns_in_relation(existing) | map(attribute='name') | list -%}
        {%- set retired = columns | select('in', stored) | list -%}
        {%- if retired -%}
    do $relax$
    declare
        retired_constraint record;
    begin
        for retired_constraint in
            select distinct constraints.conname
            from pg_constraint as constraints
            inner join pg_attribute as attributes
                on constraints.conrelid = attributes.attrelid and attributes.attnum = any(constraints.conkey)
            where
                constraints.conrelid = '{{ existing.include(database=false) }}'::regclass
                and attributes.attname in ('{{ retired | join("', '") }}')
        loop
            execute format('alter table {{ existing.include(database=false) }} drop constraint %I', retired_constraint.conname);
        end loop;
    end
    $relax$;
    alter table {{ existing }}
            {%- for column in retired %}
        alter column {{ adapter.quote(column) }} drop not null{{ "," if not loop.last }}
            {%- endfor %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
