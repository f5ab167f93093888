{#-
    The FIFO order of a symbol's fills, the one definition every model and
    test uses: time, buys before sells at one timestamp (a lot bought at the
    very moment of a sell is available to it), then order id. Order ids
    compare byte-wise (collate "C") so that the order, and so every
    allocation, is the same on any server whatever its default collation and
    equals Python's string order, which the reference tests use; it is also
    the cheapest comparison PostgreSQL has.

    `fifo_order_by()` is the order as expressions over `order_time`, `side`
    and `order_id` (with an optional table prefix). A model that sorts in
    FIFO order more than once selects `fifo_order_keys()` as columns first
    and orders by `fifo_order_by(keyed=true)`: the planner then sees that the
    second window's input is already in that order and does not sort again.
-#}
{% macro fifo_order_by(prefix='', keyed=false) -%}
    {%- if keyed -%}
        {{ prefix }}order_time, {{ prefix }}fifo_is_sell, {{ prefix }}fifo_order_key
    {%- else -%}
        {{ prefix }}order_time, {{ prefix }}side <> 'buy', {{ prefix }}order_id collate "C"
    {%- endif -%}
{%- endmacro %}

{% macro fifo_order_keys(prefix='') -%}
    {{ prefix }}side <> 'buy' as fifo_is_sell,
    {{ prefix }}order_id collate "C" as fifo_order_key
{%- endmacro %}
