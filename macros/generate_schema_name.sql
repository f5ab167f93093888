{#-
    Custom schemas are suffixes of the target schema (`analytics_staging`,
    `analytics_marts`...), the dbt default, written out so that the naming is
    visible in the project. The warehouse never builds into the source schema:
    the guard fails the run before anything is created there.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = target.schema -%}
    {%- set schema = base if custom_schema_name is none else base ~ '_' ~ (custom_schema_name | trim) -%}
    {%- if schema == env_var('TRADES_SOURCE_SCHEMA', 'public') -%}
        {{ exceptions.raise_compiler_error(
            "target schema '" ~ schema ~ "' is the source schema: the warehouse never writes there. "
            ~ "Set TRADES_TARGET_SCHEMA to another schema."
        ) }}
    {%- endif -%}
    {{ schema }}
{%- endmacro %}
