{# Energy helpers: a reading's interval and how many readings make a full day. #}


{#
  A reading's interval in seconds: to the meter's next reading, var nominal_interval_seconds
  for its newest, capped at var max_gap_seconds (an outage does not invent energy).
#}
{% macro capped_interval_seconds(reading_at, next_reading_at) -%}
  {%- set intervals = interval_rules() -%}
  least(
    coalesce(
      (unix_micros({{ next_reading_at }}) - unix_micros({{ reading_at }})) / 1e6,
      {{ intervals.nominal_interval_seconds }}
    ),
    {{ intervals.max_gap_seconds }}
  )
{%- endmacro %}

{# Readings a meter sends in a full day: var expected_readings_per_day, else 86400 / interval. #}
{% macro expected_readings_per_day() %}
  {%- set configured = var('expected_readings_per_day', none) -%}
  {%- if configured is not none -%}
    {{ return(configured | int) }}
  {%- endif -%}
  {{ return((86400 / interval_rules().nominal_interval_seconds) | round(0, 'floor') | int) }}
{% endmacro %}
