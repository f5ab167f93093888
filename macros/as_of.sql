{#-
    The reporting moment, defined once.

    `as_of_literal()` is the project variable `as_of` as a timestamptz
    literal, or none when it is unset. It reads no model: the per-symbol
    incremental FIFO models use it to cut their fills (a fixed `as_of` is part
    of their build fingerprint), and `int_reporting_moment` turns it into the
    one-row model every other model reads (`as_of` when set, else the latest
    fill).

    `until_as_of(column)` is the cut itself: a condition keeping rows at or
    before `as_of`, or `true` when it is unset (everything up to the latest
    fill is everything). FIFO is causal, so cutting the fills cuts nothing a
    sell at or before `as_of` was matched with.
-#}
{% macro as_of_literal() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- endif -%}
{%- endmacro %}

{% macro until_as_of(column) -%}
    {%- if as_of_literal() -%}
        {{ column }} <= {{ as_of_literal() }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
