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
  leaves the mart's Delta log untouched. updated_at only grows and incremental runs delete no
  row, so only rows written after the current watermark can be newer: Delta skips every clean
  file written before (min/max statistics) instead of reading the whole column.
#}
{% macro set_watermark(relation, clean_relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set current = get_watermark(relation) %}
  {% set newest = scalar_query(
      'select cast(max(updated_at) as string) from ' ~ clean_relation
      ~ (' where ' ~ changed_since(current) if current else '')
  ) %}
  {% if newest is not none %}
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
  empty): events ingested after `ingested_after` are new; of those, only readings from
  `window_from` (lookback_hours before the newest loaded reading) are taken; `scan_from` is one
  interval of context before the earliest of them. The newest ingested_at and reading_at already
  loaded are the table's watermark properties (set_clean_watermark), else read from the table;
  then one small query on the validated table, where Delta skips the files that hold no reading
  from the window (min/max statistics).
#}
{% macro clean_incremental_bounds(relation, source_relation, lookback_hours, context_seconds) %}
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
  {% set row = first_row(
      'select cast(' ~ window_from ~ ' as string),'
      ~ ' cast(timestampadd(second, -' ~ context_seconds ~ ', min(reading_at)) as string)'
      ~ ' from ' ~ source_relation
      ~ ' where ingested_at > ' ~ timestamp_literal(ingested_after)
      ~ ' and reading_at >= ' ~ window_from
  ) %}
  {{ return({'ingested_after': ingested_after, 'window_from': row[0], 'scan_from': row[1] or row[0]}) }}
{% endmacro %}

{#
  post-hook of the clean table: keep its newest ingested_at and reading_at (the bounds of the
  next run) and updated_at as table properties. Only the rows written since the last update are
  read (changed_since): none of these values ever decreases, as incremental runs delete no row
  and a reading keeps its newest version. Writes only when rows were written, so a run with no
  new data leaves the Delta log untouched; a full refresh forgets the properties and reads all.
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
      ~ ' cast(max(updated_at) as string)'
      ~ ' from ' ~ relation ~ (' where ' ~ changed_since(updated) if updated else '')
  ) %}
  {% if row is not none and row[2] is not none %}
    {% do run_query(
        "alter table " ~ relation ~ " set tblproperties ("
        ~ "'smartgrid.ingested_watermark' = '" ~ row[0] ~ "', "
        ~ "'smartgrid.newest_reading_at' = '" ~ row[1] ~ "', "
        ~ "'smartgrid.updated_watermark' = '" ~ row[2] ~ "')") %}
  {% endif %}
  {{ return('') }}
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
  The earliest clean reading an incremental run of fct_meter_readings needs, as text: for each
  meter with readings changed since `watermark`, its first changed reading and the two readings
  before it (the rolling voltage's context), searched back `search_seconds` before the first
  change of all (the lookback window). One narrow query (meter and time) per search: the
  shorter searches first, and a longer one only when some meter has fewer than two readings in
  the shorter one (the two nearest readings are then the same), so a run usually reads minutes
  of readings rather than the whole lookback window.
#}
{% macro readings_context_start(clean_relation, watermark, first_changed, search_seconds) %}
  {% for seconds in search_seconds %}
    {% set search_from = 'timestampadd(second, -' ~ seconds ~ ', '
        ~ timestamp_literal(first_changed) ~ ')' %}
    {% set row = first_row(
        'with changed as (select meter_id, min(reading_at) as first_changed_at'
        ~ ' from ' ~ clean_relation ~ ' where ' ~ changed_since(watermark)
        ~ ' group by meter_id),'
        ~ ' earlier as (select candidate.meter_id, candidate.reading_at,'
        ~ ' row_number() over (partition by candidate.meter_id'
        ~ ' order by candidate.reading_at desc) as readings_back'
        ~ ' from ' ~ clean_relation ~ ' as candidate'
        ~ ' inner join changed on candidate.meter_id = changed.meter_id'
        ~ ' and candidate.reading_at < changed.first_changed_at'
        ~ ' where candidate.reading_date >= ' ~ utc_date(search_from)
        ~ ' and candidate.reading_at >= ' ~ search_from ~ '),'
        ~ ' context as (select changed.first_changed_at,'
        ~ ' min(earlier.reading_at) as earlier_reading_at,'
        ~ ' count(earlier.reading_at) as readings_found'
        ~ ' from changed left join earlier'
        ~ ' on changed.meter_id = earlier.meter_id and earlier.readings_back <= 2'
        ~ ' group by changed.meter_id, changed.first_changed_at)'
        ~ ' select cast(least(min(first_changed_at), min(earlier_reading_at)) as string),'
        ~ ' min(readings_found) from context'
    ) %}
    {% if loop.last or (row[1] is not none and row[1] >= 2) %}
      {{ return(row[0]) }}
    {% endif %}
  {% endfor %}
{% endmacro %}


{#
  The import CTEs of an incremental daily mart (`readings` ... `in_scope`, each followed by a
  comma): every reading of fct_meter_readings in the (meter, reporting-time-zone day) pairs whose
  clean rows changed since the mart's watermark; all readings on a first run or a full refresh.
#}
{% macro changed_meter_days_ctes(relation, readings_relation, clean_relation) %}
{%- set watermark = get_watermark(relation) if is_incremental() else none -%}
{%- set first_day = none -%}
{%- if watermark is not none -%}
{%- set first_day = over_changed_rows(
    'to_date(min(' ~ to_reporting_time('reading_at') ~ '))',
    clean_relation, watermark) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}


readings as (

    select * from {{ readings_relation }}
    {%- if incremental_run %}
    where local_date >= {{ "date '" ~ first_day ~ "'" if first_day else 'cast(null as date)' }}
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
