{#-
    Stands in for dbt_utils.generate_surrogate_key (the package hub is out of
    reach here): md5 of the values joined by '-', a null as the marker
    `_null_`. Unlike dbt_utils', the joined text names one tuple of values
    only: dbt_utils' joins sell `x-y` of buy `z` and sell `x` of buy `y-z`
    into one text, so two allocations of valid fills shared an id and the
    compat view's uniqueness test failed a correct build. So a value holding
    '-' or '\' has each of them preceded by '\', and a value that is the text
    `_null_` itself is written `\_null_`: the separators are then the '-'
    with no '\' before them, and the marker stands for a null only. A value with
    neither character (a version, an id without dashes) is joined as it is,
    so its key is the one dbt_utils' scheme gives; uuid-shaped ids hold
    dashes, so their keys changed with this scheme.
-#}
{% macro surrogate_key(expressions) -%}
    md5(
        {%- for expression in expressions %}
        {{ surrogate_key_part('cast(' ~ expression ~ ' as text)') }}{{ " || '-' ||" if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#-
    One value of a surrogate key, as it is joined (see above). E'' strings:
    the backslashes mean the same whatever standard_conforming_strings says.
-#}
{% macro surrogate_key_part(value) -%}
    case
        when {{ value }} is null then '_null_'
        when {{ value }} = '_null_' then E'\\_null_'
        else replace(replace({{ value }}, E'\\', E'\\\\'), '-', E'\\-')
    end
{%- endmacro %}
