{#-
    The part of a fill's fees that goes with `part` of its `whole` size, with
    one rounding: the fees are multiplied before dividing. A piece that is
    the whole fill takes the fees as they are. That is the same value the
    division gives (the quotient is exact: PostgreSQL divides to at least
    the dividend's scale, which already holds every digit of the fees), and
    at 1M fills about half the pieces are whole lots or whole sells, so half
    the divisions, the costliest numeric step of the allocations, are skipped.
-#}
{% macro fee_share(fees, part, whole) -%}
    case when {{ part }} = {{ whole }} then {{ fees }} else {{ fees }} * {{ part }} / {{ whole }} end
{%- endmacro %}
