{#- `avax/usd`, ` AVAX-USD ` and `avax_usd` are one product id: AVAX-USD. -#}
{% macro normalise_symbol(column) -%}
    nullif(upper(translate(trim({{ column }}), '/_ ', '--')), '')
{%- endmacro %}

{#-
    The bot wrote the trigger as {"trigger": "roc_buy"}, as a bare JSON string,
    or not at all; older rows use "name" or "type" inside the object. Any other
    shape (number, array) keeps its JSON text so that it is visible, not lost.
-#}
{% macro trigger_name(column) -%}
    nullif(lower(trim(
        case jsonb_typeof({{ column }})
            when 'object' then coalesce(
                {{ column }} ->> 'trigger', {{ column }} ->> 'name', {{ column }} ->> 'type'
            )
            when 'string' then {{ column }} #>> '{}'
            when 'null' then null
            else {{ column }}::text
        end
    )), '')
{%- endmacro %}

{#- True for null, zero, negative, NaN and infinite float values. -#}
{% macro is_not_finite_positive(column) -%}
    ({{ column }} is null or not ({{ column }} > 0) or {{ column }} in ('NaN', 'Infinity'))
{%- endmacro %}

{#- A project variable's list as SQL string literals: 'filled', 'done'. -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value | lower | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
