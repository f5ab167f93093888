{#-
    dbt-postgres reads an array column's type from information_schema as the
    bare word ARRAY, which cannot be cast to, so unit-test fixtures over the
    source table (it has parent_ids varchar[]) failed to compile. Arrays are
    cast to text[] instead; every other type as dbt's default__safe_cast does.
-#}
{% macro postgres__safe_cast(field, type) -%}
    {%- if type | upper == 'ARRAY' -%}
        cast({{ field }} as text[])
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
