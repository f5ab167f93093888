{#-
    The moment reports and lot ages are measured at: the project variable
    `as_of` when given, else the time of the latest fill, so that historical
    data gives the same answer whenever it is built.
-#}
{% macro as_of_timestamp() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%}
        (select max(order_time) from {{ ref('stg_trading_bot__fills') }})
    {%- endif -%}
{%- endmacro %}
