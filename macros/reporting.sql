{#- The UTC calendar day of a timestamptz, whatever the session's time zone. -#}
{% macro utc_date(column) -%}
    ({{ column }} at time zone 'UTC')::date
{%- endmacro %}

{#- The project variable `starting_equity_usd` as exact numeric money. -#}
{% macro starting_equity() -%}
    cast({{ var('starting_equity_usd') }} as numeric)
{%- endmacro %}

{#-
    The daily risk-free return: the annual `risk_free_rate` de-annualised by
    compounding over 365 days, as QuantStats' to_excess_returns does.
-#}
{% macro daily_risk_free_rate() -%}
    (power(1 + cast({{ var('risk_free_rate') }} as numeric), 1 / 365.0) - 1)
{%- endmacro %}
