{#-
    The daily measures, written once. Each has a name, whether it is a count
    (a whole number: summed counts are cast back to bigint) and how one day of
    one symbol's fills makes it (columns of int_fills_aggregated_daily's
    `fills_until_as_of`). int_fills_aggregated_daily aggregates them,
    daily_pnl sums them over symbols, and both daily marts fill the days
    without fills with zeros.
-#}
{% macro daily_measures() -%}
    {{ return([
        {'name': 'buys', 'is_count': true, 'of_fills': "count(*) filter (where side = 'buy')"},
        {'name': 'sells', 'is_count': true, 'of_fills': "count(*) filter (where side = 'sell')"},
        {'name': 'trades', 'is_count': true, 'of_fills': "count(*) filter (where is_trade)"},
        {'name': 'wins', 'is_count': true, 'of_fills': "count(*) filter (where outcome = 'win')"},
        {'name': 'losses', 'is_count': true, 'of_fills': "count(*) filter (where outcome = 'loss')"},
        {'name': 'breakevens', 'is_count': true, 'of_fills': "count(*) filter (where outcome = 'breakeven')"},
        {'name': 'realized_pnl_usd', 'is_count': false,
            'of_fills': "coalesce(sum(realized_pnl_usd) filter (where side = 'sell'), 0)"},
        {'name': 'gross_profit_usd', 'is_count': false,
            'of_fills': "coalesce(sum(realized_pnl_usd) filter (where outcome = 'win'), 0)"},
        {'name': 'gross_loss_usd', 'is_count': false,
            'of_fills': "coalesce(sum(realized_pnl_usd) filter (where outcome = 'loss'), 0)"},
        {'name': 'fees_usd', 'is_count': false, 'of_fills': "coalesce(sum(fees_usd), 0)"},
        {'name': 'bought_usd', 'is_count': false,
            'of_fills': "coalesce(sum(notional_usd) filter (where side = 'buy'), 0)"},
        {'name': 'sold_usd', 'is_count': false,
            'of_fills': "coalesce(sum(notional_usd) filter (where side = 'sell'), 0)"}
    ]) }}
{%- endmacro %}

{#- Select-list items: each measure of one day of fills (inside a group by day and symbol). -#}
{% macro daily_measures_of_fills() -%}
    {%- for measure in daily_measures() %}
        {{ measure.of_fills }} as {{ measure.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Select-list items: each measure summed over the rows of a group (symbols of a day). -#}
{% macro daily_measures_summed() -%}
    {%- for measure in daily_measures() %}
        sum({{ measure.name }}){{ '::bigint' if measure.is_count }} as {{ measure.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Select-list items: each measure of `relation`, zero where a calendar day has no row there. -#}
{% macro daily_measures_or_zero(relation) -%}
    {%- for measure in daily_measures() %}
        coalesce({{ relation }}.{{ measure.name }}, 0) as {{ measure.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Select-list items: the measures' names, for a final select that keeps them as they are. -#}
{% macro daily_measure_names() -%}
    {%- for measure in daily_measures() %}
        {{ measure.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
