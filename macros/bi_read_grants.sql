{#-
    Read access for BI on every mart, driven by the project variable
    `bi_read_role`. Unset or empty, the hook is empty: a build on a laptop must
    not need a role that does not exist. It is a post-hook (set for all marts
    in dbt_project.yml) rather than dbt's `grants` config because project
    configs cannot call macros, and a role can only read a table in a schema
    it may use, which `grants` does not cover.
-#}
{% macro grant_bi_read() -%}
    {%- set role = var('bi_read_role', '') | trim -%}
    {%- if role -%}
        {#- Models build in parallel: two grants on one schema at once fail
            with "tuple concurrently updated", so they take turns on a lock
            held until the model's transaction commits, and skip the schema
            grant once it is in place. -#}
        do $$
        begin
            perform pg_advisory_xact_lock(hashtext('trades_warehouse.grant_bi_read'));
            if not has_schema_privilege('{{ role | replace("'", "''") }}', '{{ this.schema | replace("'", "''") }}', 'usage') then
                grant usage on schema {{ adapter.quote(this.schema) }} to {{ adapter.quote(role) }};
            end if;
            grant select on {{ this }} to {{ adapter.quote(role) }};
        end
        $$
    {%- endif -%}
{%- endmacro %}

{#-
    Fresh planner statistics for a table just built; views have none to
    gather. The incremental models by symbol or by order analyze in their
    own post-hook, which knows how much of the table the build rewrote.
-#}
{% macro analyze_if_table() -%}
    {%- if config.get('materialized') == 'table' or (
        config.get('materialized') == 'incremental'
        and config.get('incremental_strategy') not in symbol_state_strategies() + ['replace_changed_orders']
    ) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#-
    Analyze the model's table when a build rewrote half of it or more (a
    full build: all of it), so that the models after it in the same run are
    planned on what the table now holds. A five-minute build that rewrote
    some symbols' rows with rows of the same shape leaves the statistics
    valid: it leaves them to autovacuum, which refreshes them in the
    background once a tenth of the rows changed (a whole-table sample inside
    the run cost 0.2 to 0.45 s per model). Both arguments are queries
    returning one count.
-#}
{% macro analyze_when_much_changed(changed_count, total_count) -%}
    do $analyze$
    begin
        if ({{ changed_count }}) * 2 >= ({{ total_count }}) then
            execute 'analyze {{ this }}';
        end if;
    end
    $analyze$
{%- endmacro %}
