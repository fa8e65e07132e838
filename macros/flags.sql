{#
  1 when a reading reaches any high-demand threshold that is set (var high_demand_watts on real
  power, var high_demand_interval_kwh on the interval energy; null disables one), else 0.
#}
{% macro high_demand_flag(watts_column, kwh_column) %}
  {%- set watts = var('high_demand_watts', none) -%}
  {%- set kwh = var('high_demand_interval_kwh', none) -%}
  {%- if watts is none and kwh is none -%}
    0
  {%- else -%}
    case
      {%- if watts is not none %}
        when {{ watts_column }} >= {{ watts }} then 1
      {%- endif %}
      {%- if kwh is not none %}
        when {{ kwh_column }} >= {{ kwh }} then 1
      {%- endif %}
        else 0
    end
  {%- endif -%}
{% endmacro %}
