{#
  The reading flags as SQL, from the rules resolved and checked in macros/rules.sql
  (flag_rules). A rule whose threshold is null is disabled: its flag is never set.
#}

{#- The SQL operator for a comparison word: `above` for upper limits, else lower. -#}
{% macro rule_operator(comparison, above) %}
  {%- if above -%}
    {{ return('>=' if comparison == 'inclusive' else '>') }}
  {%- else -%}
    {{ return('<=' if comparison == 'inclusive' else '<') }}
  {%- endif -%}
{% endmacro %}

{#-
  A voltage limit as a SQL expression in volts: a number of volts, or nominal x (100 +- P) / 100
  (written so that 10 % of 230 V is exactly 253 V and 207 V, with no rounding error).
-#}
{% macro voltage_limit_sql(limit, nominal_column, sign) %}
  {%- if 'volts' in limit -%}
    {{ return(limit.volts ~ '') }}
  {%- else -%}
    {{ return('(' ~ nominal_column ~ ' * ' ~ (100.0 + sign * limit.pct) ~ ' / 100.0)') }}
  {%- endif -%}
{% endmacro %}

{#-
  'over_voltage' or 'under_voltage' (``kind``) when the voltage passes that limit (var
  over_voltage_limit or under_voltage_limit), else null.
-#}
{% macro voltage_reason(kind, voltage_column, nominal_column) %}
  {%- if kind not in ('over_voltage', 'under_voltage') -%}
    {{ exceptions.raise_compiler_error("voltage_reason: kind must be over_voltage or under_voltage, got " ~ kind) }}
  {%- endif -%}
  {%- set rules = flag_rules() -%}
  {%- set over = kind == 'over_voltage' -%}
  {%- if rules[kind] is none -%}
    cast(null as string)
  {%- else -%}
    case
        when {{ voltage_column }} {{ rule_operator(rules[kind ~ '_comparison'], over) }}
            {{ voltage_limit_sql(rules[kind], nominal_column, 1 if over else -1) }}
            then '{{ kind }}'
    end
  {%- endif -%}
{% endmacro %}

{#- 'low_power_factor' when the power factor passes var min_power_factor. -#}
{% macro low_power_factor_reason(power_factor_column) %}
  {%- set rules = flag_rules() -%}
  {%- if rules.min_power_factor is none -%}
    cast(null as string)
  {%- else -%}
    case
        when {{ power_factor_column }}
            {{ rule_operator(rules.min_power_factor_comparison, false) }}
            {{ rules.min_power_factor }}
            then 'low_power_factor'
    end
  {%- endif -%}
{% endmacro %}

{#
  1 when a reading reaches any high-demand threshold that is set (var high_demand_watts on real
  power, var high_demand_interval_kwh on the interval energy, each with its comparison; null
  disables one), else 0.
#}
{% macro high_demand_flag(watts_column, kwh_column) %}
  {%- set rules = flag_rules() -%}
  {%- set watts = rules.high_demand_watts -%}
  {%- set kwh = rules.high_demand_interval_kwh -%}
  {%- if watts is none and kwh is none -%}
    0
  {%- else -%}
    case
      {%- if watts is not none %}
        when {{ watts_column }}
            {{ rule_operator(rules.high_demand_watts_comparison, true) }} {{ watts }} then 1
      {%- endif %}
      {%- if kwh is not none %}
        when {{ kwh_column }}
            {{ rule_operator(rules.high_demand_interval_kwh_comparison, true) }} {{ kwh }} then 1
      {%- endif %}
        else 0
    end
  {%- endif -%}
{% endmacro %}
