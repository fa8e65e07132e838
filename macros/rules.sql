{#
  The rules' vars, resolved and checked in one place (docs/dbt.md, "Rules and thresholds").

  validate_rules() is the first on-run-start hook: a bad var stops the run with a compiler error
  naming the var and its value, before any hook or model writes. The models resolve the same
  vars through these macros, so `dbt compile` refuses them too.
#}

{#- Defaults of the rules that dbt_project.yml cannot declare (see voltage_limit). -#}
{% macro rule_default(name) %}
  {{ return({'over_voltage_limit': '10%', 'under_voltage_limit': '10%'}[name]) }}
{% endmacro %}

{% macro rules_refuse(name, value, why) %}
  {{ exceptions.raise_compiler_error(
      "var " ~ name ~ " = " ~ tojson(value) ~ ": " ~ why) }}
{% endmacro %}

{% macro rules_is_number(value) %}
  {#- not a boolean, NaN nor infinite (x - x is NaN for both) -#}
  {{ return(value is number and value is not boolean and (value - value) == 0) }}
{% endmacro %}

{#- 'inclusive' (>= / <=) or 'strict' (> / <); `default` is today's operator. -#}
{% macro rule_comparison(name, default) %}
  {%- set word = var(name, default) -%}
  {%- if word is not string or word not in ['inclusive', 'strict'] -%}
    {{ rules_refuse(name, word, "must be 'inclusive' or 'strict'") }}
  {%- endif -%}
  {{ return(word) }}
{% endmacro %}

{#- A threshold: none (the flag is disabled), else a number >= 0 (<= upper when given). -#}
{% macro rule_threshold(name, upper=none) %}
  {%- set value = var(name, none) -%}
  {%- if value is none -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if not rules_is_number(value) -%}
    {{ rules_refuse(name, value, "must be a number, or null to disable the rule") }}
  {%- endif -%}
  {%- if value < 0 -%}
    {{ rules_refuse(name, value, "must not be negative") }}
  {%- endif -%}
  {%- if upper is not none and value > upper -%}
    {{ rules_refuse(name, value, "must be at most " ~ upper) }}
  {%- endif -%}
  {{ return(value) }}
{% endmacro %}

{#-
  A voltage limit: none (disabled), or {'volts': V} from a number, or {'pct': P} from a string
  like "10%". Not declared in dbt_project.yml, so that the deprecated var voltage_band_pct can
  fill a limit that is not set; unset and no alias: rule_default (10 %).
-#}
{% macro voltage_limit(name) %}
  {%- set unset = '__unset__' -%}
  {%- set value = var(name, unset) -%}
  {%- set alias = var('voltage_band_pct', none) -%}
  {%- if value == unset and alias is not none -%}
    {%- if not rules_is_number(alias) or alias < 0 -%}
      {{ rules_refuse('voltage_band_pct', alias,
          "must be a percent >= 0 (deprecated: set over_voltage_limit and under_voltage_limit)") }}
    {%- endif -%}
    {%- set value = alias ~ '%' -%}
  {%- elif value == unset -%}
    {%- set value = rule_default(name) -%}
  {%- endif -%}
  {%- if value is none -%}
    {{ return(none) }}
  {%- elif value is string -%}
    {%- set match = modules.re.fullmatch('\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%\s*', value) -%}
    {%- if match is none -%}
      {{ rules_refuse(name, value,
          "must be volts (a number, e.g. 250), a percent of nominal (e.g. \"10%\"), or null") }}
    {%- endif -%}
    {%- set pct = match.group(1) | float -%}
    {%- if name.startswith('under') and pct >= 100 -%}
      {{ rules_refuse(name, value, "a percent below nominal must be under 100%") }}
    {%- endif -%}
    {{ return({'pct': pct}) }}
  {%- elif rules_is_number(value) -%}
    {%- if value < 0 -%}
      {{ rules_refuse(name, value, "must not be negative") }}
    {%- endif -%}
    {{ return({'volts': value | float}) }}
  {%- else -%}
    {{ rules_refuse(name, value,
        "must be volts (a number, e.g. 250), a percent of nominal (e.g. \"10%\"), or null") }}
  {%- endif -%}
{% endmacro %}

{#- A voltage limit in volts at a nominal voltage (for the under < over check). -#}
{% macro rules_limit_volts(limit, nominal, sign) %}
  {{ return(limit.volts if 'volts' in limit else nominal * (100.0 + sign * limit.pct) / 100.0) }}
{% endmacro %}

{#-
  Under sqlfluff's offline templater (`sqlfluff lint models`: no dbt context, so no `modules`,
  and var() gives a placeholder) the rules are their defaults, unchecked.
-#}
{% macro rules_offline() %}
  {{ return(modules is not defined) }}
{% endmacro %}

{#- Every rule resolved and checked: a dict the flags and the energy macros use. -#}
{% macro flag_rules() %}
  {%- if rules_offline() -%}
    {{ return({
        'over_voltage': {'pct': 10.0}, 'under_voltage': {'pct': 10.0},
        'over_voltage_comparison': 'strict', 'under_voltage_comparison': 'strict',
        'min_power_factor': 0.9, 'min_power_factor_comparison': 'strict',
        'high_demand_watts': 5000.0, 'high_demand_watts_comparison': 'inclusive',
        'high_demand_interval_kwh': none, 'high_demand_interval_kwh_comparison': 'inclusive',
    }) }}
  {%- endif -%}
  {%- set nominal = var('nominal_voltage_v') -%}
  {%- if not rules_is_number(nominal) or nominal <= 0 -%}
    {{ rules_refuse('nominal_voltage_v', nominal, "must be a number of volts above 0") }}
  {%- endif -%}
  {%- set rules = {
      'over_voltage': voltage_limit('over_voltage_limit'),
      'under_voltage': voltage_limit('under_voltage_limit'),
      'over_voltage_comparison': rule_comparison('over_voltage_comparison', 'strict'),
      'under_voltage_comparison': rule_comparison('under_voltage_comparison', 'strict'),
      'min_power_factor': rule_threshold('min_power_factor', 1),
      'min_power_factor_comparison': rule_comparison('min_power_factor_comparison', 'strict'),
      'high_demand_watts': rule_threshold('high_demand_watts'),
      'high_demand_watts_comparison': rule_comparison('high_demand_watts_comparison', 'inclusive'),
      'high_demand_interval_kwh': rule_threshold('high_demand_interval_kwh'),
      'high_demand_interval_kwh_comparison':
          rule_comparison('high_demand_interval_kwh_comparison', 'inclusive'),
  } -%}
  {%- set over = rules.over_voltage -%}
  {%- set under = rules.under_voltage -%}
  {%- if over is not none and under is not none -%}
    {%- set over_v = rules_limit_volts(over, nominal, 1) -%}
    {%- set under_v = rules_limit_volts(under, nominal, -1) -%}
    {%- if under_v >= over_v -%}
      {{ exceptions.raise_compiler_error(
          "var under_voltage_limit = " ~ tojson(var('under_voltage_limit', none)) ~ " (" ~
          under_v ~ " V) must be below var over_voltage_limit = " ~
          tojson(var('over_voltage_limit', none)) ~ " (" ~ over_v ~ " V) at var " ~
          "nominal_voltage_v " ~ nominal ~ " (null: unset, the default or voltage_band_pct)") }}
    {%- endif -%}
  {%- endif -%}
  {{ return(rules) }}
{% endmacro %}

{#- The reporting interval and the gap cap, in whole seconds, checked. -#}
{% macro interval_rules() %}
  {%- if rules_offline() -%}
    {{ return({'nominal_interval_seconds': 60, 'max_gap_seconds': 900}) }}
  {%- endif -%}
  {%- set result = {} -%}
  {%- for name in ['nominal_interval_seconds', 'max_gap_seconds'] -%}
    {%- set value = var(name) -%}
    {%- if not rules_is_number(value) or value <= 0 or value != (value | int) -%}
      {{ rules_refuse(name, value, "must be a whole number of seconds above 0") }}
    {%- endif -%}
    {%- do result.update({name: value | int}) -%}
  {%- endfor -%}
  {%- if result.max_gap_seconds < result.nominal_interval_seconds -%}
    {{ exceptions.raise_compiler_error(
        "var max_gap_seconds = " ~ tojson(var('max_gap_seconds')) ~
        " is smaller than var nominal_interval_seconds = " ~
        tojson(var('nominal_interval_seconds')) ~
        ": every regular interval would be capped as an outage; set max_gap_seconds to at " ~
        "least the reporting interval") }}
  {%- endif -%}
  {{ return(result) }}
{% endmacro %}

{#-
  How conflicting versions of one reading (same meter_id and timestamp, different values) are
  decided: 'latest' (the version sent last wins: sent_at, then ingest time), 'first' (the
  earliest wins, a later different version never replaces it) or 'quarantine' (the reading is
  held out of the curated marts). docs/dbt.md, "Conflicting versions".
-#}
{% macro conflict_policy() %}
  {%- if rules_offline() -%}
    {{ return('latest') }}
  {%- endif -%}
  {%- set policy = var('conflict_policy', 'latest') -%}
  {%- if policy is not string or policy not in ['latest', 'first', 'quarantine'] -%}
    {{ rules_refuse('conflict_policy', policy, "must be 'latest', 'first' or 'quarantine'") }}
  {%- endif -%}
  {{ return(policy) }}
{% endmacro %}

{#- on-run-start: refuse bad vars before anything is written; renders no SQL. -#}
{% macro validate_rules() %}
  {%- do flag_rules() -%}
  {%- do conflict_policy() -%}
  {%- do interval_rules() -%}
  {%- if var('voltage_band_pct', none) is not none -%}
    {%- do log("var voltage_band_pct is deprecated: set over_voltage_limit and "
               ~ "under_voltage_limit (e.g. \"10%\"); it fills whichever of them is not set",
               info=true) -%}
  {%- endif -%}
{% endmacro %}
