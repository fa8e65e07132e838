{#
  The incremental state protocol.

  The curated tables' contracts hold only business columns, so a model cannot carry its own
  bookkeeping column: each incremental model keeps its state as Delta table properties (they
  exist on Delta in both Spark and Databricks). A full refresh replaces the table and so forgets
  them: everything is recomputed. The story of what each run reads is told once, in
  models/incremental.md.
#}


{#
  The table-property keys of the protocol, by short name: the only place a key is written.
  The clean table's: the bounds of its next run (ingested_watermark, newest_reading_at), its
  newest updated_at (updated_watermark), and what the marts need to find the rows its last run
  wrote (previous_updated_watermark, changed_from). A mart's: the clean updated_at it absorbed
  (clean_watermark) and the zone it was built in (reporting_time_zone).
#}
{% macro incremental_property_keys() %}
  {{ return({
      'ingested_watermark': 'smartgrid.ingested_watermark',
      'newest_reading_at': 'smartgrid.newest_reading_at',
      'updated_watermark': 'smartgrid.updated_watermark',
      'previous_updated_watermark': 'smartgrid.previous_updated_watermark',
      'changed_from': 'smartgrid.changed_from',
      'clean_watermark': 'smartgrid.clean_watermark',
      'reporting_time_zone': 'smartgrid.reporting_time_zone',
  }) }}
{% endmacro %}


{# The protocol's properties of a Delta table, by short name (absent ones are left out). #}
{% macro incremental_state(relation) %}
  {% set state = {} %}
  {% if execute %}
    {% set keys = incremental_property_keys() %}
    {% set properties = {} %}
    {% for row in run_query('show tblproperties ' ~ relation).rows %}
      {% do properties.update({row[0]: row[1]}) %}
    {% endfor %}
    {% for name, key in keys.items() if key in properties %}
      {% do state.update({name: properties[key]}) %}
    {% endfor %}
  {% endif %}
  {{ return(state) }}
{% endmacro %}


{# Write protocol properties given by short name (values are text). #}
{% macro set_incremental_state(relation, values) %}
  {% set keys = incremental_property_keys() %}
  {% set statement %}
    alter table {{ relation }} set tblproperties (
      {%- for name, value in values.items() %}
      '{{ keys[name] }}' = '{{ value }}'{{ ',' if not loop.last }}
      {%- endfor %}
    )
  {% endset %}
  {% do run_query(statement) %}
{% endmacro %}


{#
  A mart's watermark: the newest clean updated_at it has absorbed (none before its first run or
  after a full refresh). Local dates and dayparts depend on the zone, and the merges bound the
  target by local date: rows built in another zone would neither match nor be recomputed, so a
  mart built in another zone stops the run.
#}
{% macro get_watermark(relation) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set state = incremental_state(relation) %}
  {% set built_in = state.get('reporting_time_zone') %}
  {% set zone = var('reporting_time_zone', 'UTC') %}
  {% if built_in is not none and built_in != zone %}
    {% do exceptions.raise_compiler_error(
        relation ~ ' was built with reporting_time_zone ' ~ built_in ~ ' and this run uses '
        ~ zone ~ ': rebuild it with --full-refresh') %}
  {% endif %}
  {{ return(state.get('clean_watermark')) }}
{% endmacro %}


{#
  post-hook of a mart: record the clean table's newest updated_at as its watermark, with the
  zone. Writes only when it moved, so a run with no new data leaves the mart's Delta log
  untouched. The clean table's own property is read; a clean table without it is asked, over
  only the rows written after the current watermark (changed_since).
#}
{% macro set_watermark(relation, clean_relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set current = get_watermark(relation) %}
  {% set newest = incremental_state(clean_relation).get('updated_watermark') %}
  {% if newest is none %}
    {% set query %}
      select cast(max(updated_at) as string)
      from {{ clean_relation }}
      {% if current %}where {{ changed_since(current) }}{% endif %}
    {% endset %}
    {% set newest = scalar_query(query) %}
  {% endif %}
  {% if newest is not none and newest != current %}
    {% do set_incremental_state(relation, {
        'clean_watermark': newest,
        'reporting_time_zone': var('reporting_time_zone', 'UTC')}) %}
  {% endif %}
  {{ return('') }}
{% endmacro %}


{#
  post-hook of the clean table: keep its newest ingested_at and reading_at (the bounds of the
  next run), its newest updated_at, the updated_at the run's rows were written after and the
  earliest reading among them. Only the rows written since the last update are read: none of
  these values ever decreases. Writes only when rows were written.
#}
{% macro set_clean_watermark(relation) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set state = incremental_state(relation) %}
  {% set updated = state.get('updated_watermark') %}
  {% set query %}
    select
      cast(greatest(max(ingested_at), {{ timestamp_literal(state.get('ingested_watermark')) }})
        as string),
      cast(greatest(max(reading_at), {{ timestamp_literal(state.get('newest_reading_at')) }})
        as string),
      cast(max(updated_at) as string),
      cast(min(reading_at) as string)
    from {{ relation }}
    {% if updated %}where {{ changed_since(updated) }}{% endif %}
  {% endset %}
  {% set row = first_row(query) %}
  {% if row is not none and row[2] is not none %}
    {% do set_incremental_state(relation, {
        'ingested_watermark': row[0],
        'newest_reading_at': row[1],
        'updated_watermark': row[2],
        'previous_updated_watermark': updated or '',
        'changed_from': row[3]}) %}
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
