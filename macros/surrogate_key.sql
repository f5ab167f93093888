{#-
    Stands in for dbt_utils.generate_surrogate_key (the package hub is out of
    reach here): md5 of the values joined by '-', nulls as a fixed marker, so
    that (sell, null buy) keys stay distinct from any real buy id.
-#}
{% macro surrogate_key(expressions) -%}
    md5(
        {%- for expression in expressions %}
        coalesce(cast({{ expression }} as text), '_null_'){{ " || '-' ||" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
