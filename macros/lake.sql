{#
  Where the lake lives. `lake_root` var (CLI `--vars`) wins, then env SMARTGRID_LAKE (the Makefile
  exports it, absolute), then `lake`. Locally a directory; on Databricks an abfss:// or /Volumes/ URI.
#}
{% macro lake_root() %}
  {{- return((var('lake_root', none) or env_var('SMARTGRID_LAKE', 'lake')).rstrip('/')) -}}
{% endmacro %}

{% macro lake_path(zone) %}
  {{- return(lake_root() ~ '/' ~ zone) -}}
{% endmacro %}

{# Run a query that returns one row and give back its first value (none while parsing). #}
{% macro scalar_query(sql) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set result = run_query(sql) %}
  {% if result is none or (result.rows | length) == 0 %}
    {{ return(none) }}
  {% endif %}
  {{ return(result.rows[0][0]) }}
{% endmacro %}

{# A SQL timestamp literal from a value read back from the warehouse (none -> null). #}
{% macro timestamp_literal(value) %}
  {%- if value is none -%}
    {{ return("cast(null as timestamp)") }}
  {%- endif -%}
  {{- return("timestamp '" ~ value ~ "'") -}}
{% endmacro %}
