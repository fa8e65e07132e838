{# Time helpers: UTC dates, the reporting time zone (var reporting_time_zone), trend buckets. #}


{# Whether the reporting time zone is UTC (no conversion, no daylight-saving change). #}
{% macro reporting_zone_is_utc() %}
  {{ return(var('reporting_time_zone', 'UTC') | upper in ('UTC', 'ETC/UTC', 'Z')) }}
{% endmacro %}

{# A UTC instant seen in the reporting time zone (var reporting_time_zone, an IANA name). #}
{% macro to_reporting_time(column) %}
  {%- if reporting_zone_is_utc() -%}
    {{ column }}
  {%- else -%}
    from_utc_timestamp({{ column }}, '{{ var('reporting_time_zone') }}')
  {%- endif -%}
{% endmacro %}

{# The UTC calendar date of a timestamp whatever the session time zone (to_date follows it). #}
{% macro utc_date(column) -%}
  date_from_unix_date(cast(floor(unix_seconds({{ column }}) / 86400) as int))
{%- endmacro %}

{#
  A date no later than the reporting-time-zone date of any instant at or after `timestamp`. In UTC
  the date of the instant itself; elsewhere a day earlier, because a daylight-saving change at
  midnight can turn the local clock back into the previous day.
#}
{% macro reporting_date_floor(timestamp) -%}
  {%- set day -%}
    to_date({{ to_reporting_time(timestamp) }})
  {%- endset -%}
  {%- if reporting_zone_is_utc() -%}
    {{ day }}
  {%- else -%}
    date_sub({{ day }}, 1)
  {%- endif -%}
{%- endmacro %}

{# Start of the UTC-aligned bucket of `bucket_seconds` holding a timestamp (Global Watts Trend). #}
{% macro bucket_start(column, bucket_seconds) -%}
  timestamp_seconds(floor(unix_seconds({{ column }}) / {{ bucket_seconds }}) * {{ bucket_seconds }})
{%- endmacro %}
