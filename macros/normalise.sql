{#-
    Unicode whitespace (Zs, Zl, Zp and the ASCII/C1 spacing controls) and
    invisible characters (the format characters of category Cf and the other
    control characters of Cc) as PostgreSQL regular-expression classes. A
    symbol typed with a zero-width or non-breaking space, a right-to-left mark
    or a trailing newline must not become a second product: five sells once
    became phantom unmatched sells that way while the real lots stayed open.
    tests/pipeline/test_staging.py checks these classes against every such
    code point Python's unicodedata knows.
-#}
{% macro unicode_space_class() -%}
    [\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]
{%- endmacro %}

{% macro unicode_invisible_class() -%}
    [\u0001-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]
{%- endmacro %}

{#-
    Plain printable ASCII with single spaces between words needs none of the
    Unicode clean-up below; checking for it is five times cheaper than the
    clean-up, and nearly every value a bot writes is plain.
-#}
{% macro is_plain_code(expression) -%}
    ({{ expression }} ~ '^[!-~]*$')
{%- endmacro %}

{% macro is_plain_label(expression) -%}
    ({{ expression }} ~ '^[!-~]+( [!-~]+)*$')
{%- endmacro %}

{#-
    A free-text label (source, trigger): every Unicode space becomes one ASCII
    space, invisible characters go, runs of spaces collapse, ends are trimmed,
    and the result is lower case; empty becomes null.
-#}
{% macro clean_label(expression) -%}
    case
        when {{ is_plain_label(expression) }} then lower({{ expression }})
        else nullif(lower(btrim(regexp_replace(regexp_replace(regexp_replace(
            {{ expression }},
            '{{ unicode_space_class() }}', ' ', 'g'),
            '{{ unicode_invisible_class() }}', '', 'g'),
            ' {2,}', ' ', 'g'))), '')
    end
{%- endmacro %}

{#- A code word (side, status): no space or invisible character belongs in one; lower case, empty is null. -#}
{% macro clean_code(expression) -%}
    case
        when {{ is_plain_code(expression) }} then nullif(lower({{ expression }}), '')
        else nullif(lower(regexp_replace(
            {{ expression }},
            '{{ unicode_space_class() }}|{{ unicode_invisible_class() }}', '', 'g')), '')
    end
{%- endmacro %}

{#- `avax/usd`, ` AVAX-USD `, `avax_usd` and `AVAX-USD` typed with a zero-width space are one product id: AVAX-USD. -#}
{% macro normalise_symbol(column) -%}
    nullif(upper(translate(
        case
            when {{ is_plain_code(column) }} then {{ column }}
            else regexp_replace(
                {{ column }},
                '{{ unicode_space_class() }}|{{ unicode_invisible_class() }}', '', 'g')
        end,
        '/_', '--')), '')
{%- endmacro %}

{#-
    The bot wrote the trigger as {"trigger": "roc_buy"}, as a bare JSON string,
    or not at all; older rows use "name" or "type" inside the object. Any other
    shape (number, array) keeps its JSON text so that it is visible, not lost.
    The text is raw: clean it with clean_label.
-#}
{% macro trigger_text(column) -%}
    case jsonb_typeof({{ column }})
        when 'object' then coalesce(
            {{ column }} ->> 'trigger', {{ column }} ->> 'name', {{ column }} ->> 'type'
        )
        when 'string' then {{ column }} #>> '{}'
        when 'null' then null
        else {{ column }}::text
    end
{%- endmacro %}

{#- True for null, zero, negative, NaN and infinite float values. -#}
{% macro is_not_finite_positive(column) -%}
    ({{ column }} is null or not ({{ column }} > 0) or {{ column }} in ('NaN', 'Infinity'))
{%- endmacro %}

{#- True unless the float lies in [low, high], the variable bounds of a plausible value. -#}
{% macro is_outside(column, low_var, high_var) -%}
    (not ({{ column }} between {{ var(low_var) }}::float8 and {{ var(high_var) }}::float8))
{%- endmacro %}

{#- A project variable's list as SQL string literals: 'filled', 'done'. -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value | lower | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
