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

{#-
    What a mart shows of a derived figure. A ratio (Sharpe, Sortino, win
    rate, profit factor, a return, a drawdown fraction) is kept to 6 decimals
    and money derived by division (a mean P&L per trade) to the cent, trailing
    zeros dropped (0.75, not 0.750000; 5, not 5.00); both stay numeric. Sums
    of exact allocations are never rounded: they must still add up exactly.
-#}
{% macro round_ratio(expression) -%}
    trim_scale(round({{ expression }}, 6))
{%- endmacro %}

{% macro round_usd(expression) -%}
    trim_scale(round({{ expression }}, 2))
{%- endmacro %}

{#-
    The return of a day: its realized P&L over the equity at its start; null
    when that equity is not positive (a return on nothing means nothing, and
    the daily ratios leave such days out rather than fail or flip sign).
-#}
{% macro daily_return(realized_pnl, equity_start) -%}
    case when {{ equity_start }} > 0 then {{ realized_pnl }} / {{ equity_start }} end
{%- endmacro %}

{#-
    Whether a moment falls in a reporting window (a row of report_windows, or
    of a relation carrying its window_start_at and window_end_at): both ends
    included, the end being `as_of`.
-#}
{% macro in_window(window, moment) -%}
    {{ moment }} between {{ window }}.window_start_at and {{ window }}.window_end_at
{%- endmacro %}
