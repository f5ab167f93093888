{#-
    What a closed trade is and how trades are scored, defined once.

    A closed trade is a sell with a matched part (it closed inventory); a sell
    nothing covered has no result and is counted as unmatched instead.
    `is_closed_trade(matched_size)` is that test, `trade_outcome(pnl,
    matched_size)` names a closed trade's result (win, loss, breakeven; null
    for a sell that closed nothing), `win_rate(wins, trades)` and
    `profit_factor(gross_profit, gross_loss)` are the ratios every mart
    reports (null when undefined: no trades, no losses).
-#}
{% macro is_closed_trade(matched_size) -%}
    coalesce({{ matched_size }} > 0, false)
{%- endmacro %}

{% macro trade_outcome(pnl, matched_size) -%}
    case
        when not {{ is_closed_trade(matched_size) }} then null
        when {{ pnl }} > 0 then 'win'
        when {{ pnl }} < 0 then 'loss'
        else 'breakeven'
    end
{%- endmacro %}

{% macro win_rate(wins, trades) -%}
    {{ wins }}::numeric / nullif({{ trades }}, 0)
{%- endmacro %}

{% macro profit_factor(gross_profit, gross_loss) -%}
    {{ gross_profit }} / nullif(-{{ gross_loss }}, 0)
{%- endmacro %}
