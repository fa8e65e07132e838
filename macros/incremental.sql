{#
  Helpers for the incremental models.

  The curated tables' contracts hold only business columns, so a mart cannot carry its own
  bookkeeping column. Instead each incremental mart keeps, as a Delta table property, the
  newest `updated_at` of the clean table it has already absorbed (its watermark); the next run
  recomputes only what the clean rows changed since then touch. A full refresh replaces the
  table and so forgets the property: everything is recomputed. Table properties exist on
  Delta in both Spark and Databricks.
#}


{% macro get_watermark(relation) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set result = run_query('show tblproperties ' ~ relation) %}
  {% for row in result.rows %}
    {% if row[0] == 'smartgrid.clean_watermark' %}
      {{ return(row[1]) }}
    {% endif %}
  {% endfor %}
  {{ return(none) }}
{% endmacro %}

{#
  post-hook: record the clean table's newest updated_at as the mart's watermark. Writes only when
  it moved, so a run with no new data leaves the mart's Delta log untouched.
#}
{% macro set_watermark(relation, clean_relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set newest = scalar_query('select cast(max(updated_at) as string) from ' ~ clean_relation) %}
  {% if newest is not none and newest != get_watermark(relation) %}
    {% do run_query("alter table " ~ relation ~ " set tblproperties ('smartgrid.clean_watermark' = '" ~ newest ~ "')") %}
  {% endif %}
  {{ return('') }}
{% endmacro %}

{# One row of strings from a query (none while parsing or when it returns no row). #}
{% macro first_row(sql) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set result = run_query(sql) %}
  {% if (result.rows | length) == 0 %}
    {{ return(none) }}
  {% endif %}
  {{ return(result.rows[0]) }}
{% endmacro %}

{# A UTC instant seen in the reporting time zone (var reporting_time_zone, an IANA name). #}
{% macro to_reporting_time(column) %}
  {%- set zone = var('reporting_time_zone', 'UTC') -%}
  {%- if zone | upper in ('UTC', 'ETC/UTC', 'Z') -%}
    {{ column }}
  {%- else -%}
    from_utc_timestamp({{ column }}, '{{ zone }}')
  {%- endif -%}
{% endmacro %}

{% macro expected_readings_per_day() %}
  {%- set configured = var('expected_readings_per_day', none) -%}
  {%- if configured is not none -%}
    {{ return(configured | int) }}
  {%- endif -%}
  {{ return((86400 / (var('nominal_interval_seconds') | int)) | round(0, 'floor') | int) }}
{% endmacro %}

{#
  Bounds of an incremental run of the clean table, as UTC timestamp strings (none when it is
  empty): events ingested after `ingested_after` are new; of those, only readings from
  `window_from` (lookback_hours before the newest loaded reading) are taken; `scan_from` is one
  interval of context before the earliest of them. Found with two small queries: Delta skips
  every file of the validated table ingested before the watermark (min/max statistics), so the
  run then reads only the stretch of time the new events touch.
#}
{% macro clean_incremental_bounds(relation, source_relation, lookback_hours, context_seconds) %}
  {% set row = first_row(
      'select cast(max(ingested_at) as string),'
      ~ ' cast(timestampadd(hour, -' ~ lookback_hours ~ ', max(reading_at)) as string)'
      ~ ' from ' ~ relation
  ) %}
  {% if row is none or row[0] is none %}
    {{ return(none) }}
  {% endif %}
  {% set scan_from = scalar_query(
      'select cast(timestampadd(second, -' ~ context_seconds ~ ', min(reading_at)) as string)'
      ~ ' from ' ~ source_relation
      ~ " where ingested_at > timestamp '" ~ row[0] ~ "'"
      ~ " and reading_at >= timestamp '" ~ row[1] ~ "'"
  ) %}
  {{ return({'ingested_after': row[0], 'window_from': row[1], 'scan_from': scan_from or row[1]}) }}
{% endmacro %}

{# `expression` (e.g. min(reading_at)) over the clean rows updated after `watermark`, as text. #}
{% macro over_changed_rows(expression, clean_relation, watermark) %}
  {{ return(scalar_query(
      'select cast(' ~ expression ~ ' as string) from ' ~ clean_relation
      ~ " where updated_at > timestamp '" ~ watermark ~ "'"
  )) }}
{% endmacro %}
