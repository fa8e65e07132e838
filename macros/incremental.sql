{#
  Helpers for the incremental models.

  The curated tables' contracts hold only business columns, so a mart cannot carry its own
  bookkeeping column. Instead each incremental mart keeps, as a Delta table property, the
  newest `updated_at` of the clean table it has already absorbed (its watermark); the next run
  recomputes only what the clean rows changed since then touch. A full refresh replaces the
  table and so forgets the property: everything is recomputed. Table properties exist on
  Delta in both Spark and Databricks.
#}


{# A Delta table's properties, as a dict of strings. #}
{% macro table_properties(relation) %}
  {% set properties = {} %}
  {% if execute %}
    {% for row in run_query('show tblproperties ' ~ relation).rows %}
      {% do properties.update({row[0]: row[1]}) %}
    {% endfor %}
  {% endif %}
  {{ return(properties) }}
{% endmacro %}

{% macro get_watermark(relation) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set properties = table_properties(relation) %}
  {#- Local dates and dayparts depend on the zone, and the merges bound the target by local date:
      rows built in another zone would neither match nor be recomputed. -#}
  {% set built_in = properties.get('smartgrid.reporting_time_zone') %}
  {% set zone = var('reporting_time_zone', 'UTC') %}
  {% if built_in is not none and built_in != zone %}
    {% do exceptions.raise_compiler_error(
        relation ~ ' was built with reporting_time_zone ' ~ built_in ~ ' and this run uses '
        ~ zone ~ ': rebuild it with --full-refresh') %}
  {% endif %}
  {{ return(properties.get('smartgrid.clean_watermark')) }}
{% endmacro %}

{#
  post-hook: record the clean table's newest updated_at as the mart's watermark (with the
  reporting time zone it was built in). Writes only when it moved, so a run with no new data
  leaves the mart's Delta log untouched. The clean table keeps its newest updated_at as a
  property (set_clean_watermark), read here; a clean table without it (built before) is asked.
  updated_at only grows and incremental runs delete no row, so only rows written after the
  current watermark can be newer: Delta skips every clean file written before (min/max
  statistics) instead of reading the whole column.
#}
{% macro set_watermark(relation, clean_relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set current = get_watermark(relation) %}
  {% set newest = table_properties(clean_relation).get('smartgrid.updated_watermark') %}
  {% if newest is none %}
    {% set newest = scalar_query(
        'select cast(max(updated_at) as string) from ' ~ clean_relation
        ~ (' where ' ~ changed_since(current) if current else '')
    ) %}
  {% endif %}
  {% if newest is not none and newest != current %}
    {% do run_query(
        "alter table " ~ relation ~ " set tblproperties ("
        ~ "'smartgrid.clean_watermark' = '" ~ newest ~ "', "
        ~ "'smartgrid.reporting_time_zone' = '" ~ var('reporting_time_zone', 'UTC') ~ "')") %}
  {% endif %}
  {{ return('') }}
{% endmacro %}

{#
  The clean rows written after `watermark` (a clean updated_at read back as text). updated_at
  holds the timestamps of the runs that wrote the rows, seconds apart, so none lies within a
  millisecond after the watermark: `> watermark + 1 ms` selects the same rows as `> watermark`,
  and lets Delta skip every file written at or before it (it keeps timestamp statistics to the
  millisecond and reads a file's maximum as that millisecond's end).
#}
{% macro changed_since(watermark) -%}
  updated_at > timestampadd(millisecond, 1, {{ timestamp_literal(watermark) }})
{%- endmacro %}

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
  empty): events ingested after `ingested_after` and up to `ingested_until` (the newest seen
  now, so that the model and the watermark see the same events) are new; of those, only
  readings from `window_from` (lookback_hours before the newest loaded reading) are taken;
  `scan_from` is one interval of context before the earliest of them. The newest ingested_at
  and reading_at already loaded are the table's watermark properties (set_clean_watermark),
  else read from the table; then one small query on the validated table, where Delta skips the
  files ingested before (ingest_time statistics).

  With `find_outages` (the maximum gap exceeds the nominal interval, so a meter's newest
  reading, given the nominal interval, changes when a reading follows it after an outage):
  `outage_from` is the earliest newest-loaded reading of the meters with nothing loaded from
  one interval before their first new reading on (none when there are none). One query: the
  loaded rows near the new ones (meter and time), and only when some meter has none there,
  its earlier rows (Spark skips that scan when the set of such meters is empty). `read_from`
  is the earliest row the run can write.
#}
{% macro clean_incremental_bounds(relation, source_relation, lookback_hours, context_seconds, find_outages) %}
  {% set properties = table_properties(relation) %}
  {% set ingested_after = properties.get('smartgrid.ingested_watermark') %}
  {% set newest_reading = properties.get('smartgrid.newest_reading_at') %}
  {% if ingested_after is none or newest_reading is none %}
    {% set row = first_row(
        'select cast(max(ingested_at) as string), cast(max(reading_at) as string)'
        ~ ' from ' ~ relation
    ) %}
    {% if row is none or row[0] is none %}
      {{ return(none) }}
    {% endif %}
    {% set ingested_after, newest_reading = row[0], row[1] %}
  {% endif %}
  {% set window_from = 'timestampadd(hour, -' ~ lookback_hours ~ ', '
      ~ timestamp_literal(newest_reading) ~ ')' %}
  {% set new_events = source_relation ~ ' where ingested_at > ' ~ timestamp_literal(ingested_after)
      ~ ' and reading_at >= ' ~ window_from %}
  {% set row = first_row(
      'select cast(' ~ window_from ~ ' as string),'
      ~ ' cast(timestampadd(second, -' ~ context_seconds ~ ', min(reading_at)) as string),'
      ~ ' cast(max(ingested_at) as string)'
      ~ ' from ' ~ new_events
  ) %}
  {% set scan_from = row[1] or row[0] %}
  {% set bounds = {
      'ingested_after': ingested_after, 'ingested_until': row[2], 'window_from': row[0],
      'scan_from': scan_from, 'outage_from': none, 'read_from': scan_from} %}
  {% if find_outages and row[2] is not none %}
    {% set outage_from = scalar_query(
        'with touched as (select meter_id, min(reading_at) as first_new_at from ' ~ new_events
        ~ ' and ingested_at <= ' ~ timestamp_literal(row[2]) ~ ' group by meter_id),'
        ~ ' near as (select meter_id, reading_at from ' ~ relation
        ~ ' where reading_date >= ' ~ utc_date(timestamp_literal(scan_from))
        ~ ' and reading_at >= ' ~ timestamp_literal(scan_from) ~ '),'
        ~ ' back as (select touched.meter_id, touched.first_new_at from touched'
        ~ ' left anti join near on touched.meter_id = near.meter_id'
        ~ ' and near.reading_at >= timestampadd(second, -' ~ context_seconds
        ~ ', touched.first_new_at)),'
        ~ ' previous as (select /*+ broadcast(back) */ back.meter_id,'
        ~ ' max(loaded.reading_at) as reading_at'
        ~ ' from ' ~ relation ~ ' as loaded inner join back'
        ~ ' on loaded.meter_id = back.meter_id and loaded.reading_at < back.first_new_at'
        ~ ' group by back.meter_id)'
        ~ ' select cast(min(reading_at) as string) from previous'
    ) %}
    {% if outage_from is not none %}
      {% do bounds.update({'outage_from': outage_from, 'read_from': [scan_from, outage_from] | min}) %}
    {% endif %}
  {% endif %}
  {{ return(bounds) }}
{% endmacro %}

{#
  A reading's interval in seconds: to the meter's next reading, var nominal_interval_seconds
  for its newest, capped at var max_gap_seconds (an outage does not invent energy).
#}
{% macro capped_interval_seconds(reading_at, next_reading_at) -%}
  least(
    coalesce(
      (unix_micros({{ next_reading_at }}) - unix_micros({{ reading_at }})) / 1e6,
      {{ var('nominal_interval_seconds') | int }}
    ),
    {{ var('max_gap_seconds') | int }}
  )
{%- endmacro %}

{#
  post-hook of the clean table: keep its newest ingested_at and reading_at (the bounds of the
  next run) and updated_at as table properties, with what the marts need to find the rows the
  run wrote without a query of their own: the updated_at they were written after
  (`smartgrid.previous_updated_watermark`) and the earliest reading among them
  (`smartgrid.changed_from`). Only the rows written since the last update are read
  (changed_since): none of these values ever decreases, as incremental runs delete no row and a
  reading keeps its newest version. Writes only when rows were written, so a run with no new
  data leaves the Delta log untouched; a full refresh forgets the properties and reads all.
#}
{% macro set_clean_watermark(relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set properties = table_properties(relation) %}
  {% set updated = properties.get('smartgrid.updated_watermark') %}
  {% set row = first_row(
      'select cast(greatest(max(ingested_at), '
      ~ timestamp_literal(properties.get('smartgrid.ingested_watermark')) ~ ') as string),'
      ~ ' cast(greatest(max(reading_at), '
      ~ timestamp_literal(properties.get('smartgrid.newest_reading_at')) ~ ') as string),'
      ~ ' cast(max(updated_at) as string), cast(min(reading_at) as string)'
      ~ ' from ' ~ relation ~ (' where ' ~ changed_since(updated) if updated else '')
  ) %}
  {% if row is not none and row[2] is not none %}
    {% do run_query(
        "alter table " ~ relation ~ " set tblproperties ("
        ~ "'smartgrid.ingested_watermark' = '" ~ row[0] ~ "', "
        ~ "'smartgrid.newest_reading_at' = '" ~ row[1] ~ "', "
        ~ "'smartgrid.updated_watermark' = '" ~ row[2] ~ "', "
        ~ "'smartgrid.previous_updated_watermark' = '" ~ (updated or '') ~ "', "
        ~ "'smartgrid.changed_from' = '" ~ row[3] ~ "')") %}
  {% endif %}
  {{ return('') }}
{% endmacro %}

{#
  The earliest clean reading changed since a mart's `watermark`, as text (none when nothing
  changed). When the mart absorbed every clean run but the last (the usual case), it is the
  clean table's `smartgrid.changed_from` (set_clean_watermark); otherwise a query over the
  rows changed since the watermark.
#}
{% macro clean_changed_from(clean_relation, watermark) %}
  {% set clean = table_properties(clean_relation) %}
  {% if clean.get('smartgrid.updated_watermark') == watermark %}
    {{ return(none) }}
  {% endif %}
  {% if clean.get('smartgrid.changed_from') and clean.get('smartgrid.previous_updated_watermark') == watermark %}
    {{ return(clean.get('smartgrid.changed_from')) }}
  {% endif %}
  {{ return(over_changed_rows('min(reading_at)', clean_relation, watermark)) }}
{% endmacro %}

{# `expression` (e.g. min(reading_at)) over the clean rows updated after `watermark`, as text. #}
{% macro over_changed_rows(expression, clean_relation, watermark) %}
  {{ return(scalar_query(
      'select cast(' ~ expression ~ ' as string) from ' ~ clean_relation
      ~ ' where ' ~ changed_since(watermark)
  )) }}
{% endmacro %}

{# The UTC calendar date of a timestamp whatever the session time zone (to_date follows it). #}
{% macro utc_date(column) -%}
  date_from_unix_date(cast(floor(unix_seconds({{ column }}) / 86400) as int))
{%- endmacro %}

{#
  Bounded merges.

  A merge whose condition holds only the unique key makes Delta read every file of the target to
  find the matches. A model whose target is partitioned by a column derived from its key (the
  clean table's reading_date, the curated readings' local_date) names that column in `meta:
  merge_window_column` and, while it compiles an incremental run, calls set_merge_window(start)
  with a SQL expression no later than the partition of any row it emits. get_merge_sql (below)
  then adds `<target>.<column> >= <start>` to the merge condition: a target row that matches a
  source row has the same key, hence the same partition value, so no match is lost, and Delta
  reads only the partitions from `start` on.

  Why this way: dbt renders incremental_predicates when it parses the project (dbt-core#6658),
  Delta refuses subqueries in a merge condition, and computing the bound from the merge source
  would run the model's query a second time. So the model hands the bound it already computed to
  the merge, through its own config's meta (the dict dbt gives both the compilation and the
  materialization of a node). Without it (a full refresh, the first run, or a dbt that stopped
  sharing that dict) the merge is unbounded: slower, never wrong. tests/dbt checks that it is
  bounded.
#}
{% macro set_merge_window(start) %}
  {% if execute %}
    {% do (config.get('meta') or {}).update({'merge_window_start': start}) %}
  {% endif %}
  {{ return('') }}
{% endmacro %}

{#
  dbt's get_merge_sql, overridden for this project (the root project's macro wins over dbt's
  global one); the adapter's spark__ or databricks__ implementation still writes the statement.
#}
{% macro get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
  {%- set predicates = [] + (kwargs.get('predicates', incremental_predicates) or []) -%}
  {%- set meta = config.get('meta') or {} -%}
  {%- if meta.get('merge_window_column') and meta.get('merge_window_start') -%}
    {%- set column = config.get('target_alias', 'DBT_INTERNAL_DEST')
        ~ '.' ~ meta.get('merge_window_column') -%}
    {%- do predicates.append(
        '(' ~ column ~ ' >= ' ~ meta.get('merge_window_start') ~ ' or ' ~ column ~ ' is null)'
    ) -%}
  {%- endif -%}
  {{ adapter.dispatch('get_merge_sql', 'dbt')(target, source, unique_key, dest_columns, predicates) }}
{%- endmacro %}

{#
  A date no later than the reporting-time-zone date of any instant at or after `timestamp`. In UTC
  the date of the instant itself; elsewhere a day earlier, because a daylight-saving change at
  midnight can turn the local clock back into the previous day.
#}
{% macro reporting_date_floor(timestamp) -%}
  {%- set day = 'to_date(' ~ to_reporting_time(timestamp) ~ ')' -%}
  {%- if var('reporting_time_zone', 'UTC') | upper in ('UTC', 'ETC/UTC', 'Z') -%}
    {{ day }}
  {%- else -%}
    date_sub({{ day }}, 1)
  {%- endif -%}
{%- endmacro %}

{# Start of the UTC-aligned bucket of `bucket_seconds` holding a timestamp (Global Watts Trend). #}
{% macro bucket_start(column, bucket_seconds) -%}
  timestamp_seconds(floor(unix_seconds({{ column }}) / {{ bucket_seconds }}) * {{ bucket_seconds }})
{%- endmacro %}

{#
  The import CTEs of an incremental daily mart (`readings` ... `in_scope`, each followed by a
  comma): every reading of fct_meter_readings in the (meter, reporting-time-zone day) pairs whose
  clean rows changed since the mart's watermark; all readings on a first run or a full refresh.
#}
{% macro changed_meter_days_ctes(relation, readings_relation, clean_relation) %}
{%- set watermark = get_watermark(relation) if is_incremental() else none -%}
{%- set first_changed = none -%}
{%- if watermark is not none -%}
{%- set first_changed = clean_changed_from(clean_relation, watermark) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}


readings as (

    select * from {{ readings_relation }}
    {%- if incremental_run %}
    where local_date >= {{ reporting_date_floor(timestamp_literal(first_changed)) }}
    {%- endif %}

),

{% if incremental_run -%}
changed_days as (

    select distinct
        meter_id,
        to_date({{ to_reporting_time('reading_at') }}) as local_date

    from {{ clean_relation }}
    where {{ changed_since(watermark) }}

),

in_scope as (

    select readings.*

    from readings
    inner join changed_days
        on
            readings.meter_id = changed_days.meter_id
            and readings.local_date = changed_days.local_date

),

{% else -%}
in_scope as (

    select * from readings

),

{% endif -%}
{% endmacro %}
