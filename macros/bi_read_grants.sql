{#-
    Read access for BI on the reporting marts, driven by the project variable
    `bi_read_role`. Unset or empty, both macros return nothing and dbt grants
    nothing: a build on a laptop must not need a role that does not exist.

    bi_read_grants() is a `grants` config: select on the model's relation.
    grant_bi_read_schema_usage() is a post-hook: a role can only read a table
    in a schema it may use, and dbt's grants config is table-level only.
-#}
{% macro bi_read_grants() -%}
    {%- set role = var('bi_read_role', '') | trim -%}
    {{ return({'select': [role]} if role else {}) }}
{%- endmacro %}

{% macro grant_bi_read_schema_usage() -%}
    {%- set role = var('bi_read_role', '') | trim -%}
    {%- if role -%}
        {#- Models build in parallel: two grants on one schema at once fail
            with "tuple concurrently updated", so they take turns on a lock
            held until the model's transaction commits, and skip the grant
            once it is in place. -#}
        do $$
        begin
            perform pg_advisory_xact_lock(hashtext('trades_warehouse.grant_bi_read_schema_usage'));
            if not has_schema_privilege('{{ role | replace("'", "''") }}', '{{ this.schema | replace("'", "''") }}', 'usage') then
                grant usage on schema {{ adapter.quote(this.schema) }} to {{ adapter.quote(role) }};
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}
