{#
  Bounds of an incremental run of the clean table, as UTC timestamp strings (none when it is
  empty): events ingested after `ingested_after` and up to `ingested_until` (the newest seen
  now, so that the model and the watermark see the same events) are new; of those, only
  readings from `window_from` (lookback_hours before the newest loaded reading) are taken;
  `scan_from` is one interval of context before the earliest of them. The newest ingested_at
  and reading_at already loaded are the table's state (set_clean_watermark), else read from the
  table; then one small query on the validated table, where Delta skips the files ingested
  before (ingest_time statistics).

  With `find_outages` (the maximum gap exceeds the nominal interval, so a meter's newest
  reading, given the nominal interval, changes when a reading follows it after an outage):
  `outage_from` is the earliest newest-loaded reading of the meters with nothing loaded from
  one interval before their first new reading on (none when there are none). One query: the
  loaded rows near the new ones (meter and time), and only when some meter has none there,
  its earlier rows (Spark skips that scan when the set of such meters is empty). `read_from`
  is the earliest row the run can write.
#}
{% macro clean_incremental_bounds(relation, source_relation, lookback_hours, context_seconds, find_outages) %}
  {% set state = incremental_state(relation) %}
  {% set ingested_after = state.get('ingested_watermark') %}
  {% set newest_reading = state.get('newest_reading_at') %}
  {% if ingested_after is none or newest_reading is none %}
    {% set query %}
      select cast(max(ingested_at) as string), cast(max(reading_at) as string)
      from {{ relation }}
    {% endset %}
    {% set row = first_row(query) %}
    {% if row is none or row[0] is none %}
      {{ return(none) }}
    {% endif %}
    {% set ingested_after, newest_reading = row[0], row[1] %}
  {% endif %}

  {% set window_from -%}
    timestampadd(hour, -{{ lookback_hours }}, {{ timestamp_literal(newest_reading) }})
  {%- endset %}
  {% set new_events -%}
    {{ source_relation }}
    where
      ingested_at > {{ timestamp_literal(ingested_after) }}
      and reading_at >= {{ window_from }}
  {%- endset %}
  {% set query %}
    select
      cast({{ window_from }} as string),
      cast(timestampadd(second, -{{ context_seconds }}, min(reading_at)) as string),
      cast(max(ingested_at) as string)
    from {{ new_events }}
  {% endset %}
  {% set row = first_row(query) %}
  {% set scan_from = row[1] or row[0] %}
  {% set bounds = {
      'ingested_after': ingested_after, 'ingested_until': row[2], 'window_from': row[0],
      'scan_from': scan_from, 'outage_from': none, 'read_from': scan_from} %}

  {% if find_outages and row[2] is not none %}
    {% set query %}
      with

      touched as (
        select meter_id, min(reading_at) as first_new_at
        from {{ new_events }}
          and ingested_at <= {{ timestamp_literal(row[2]) }}
        group by meter_id
      ),

      near as (
        select meter_id, reading_at
        from {{ relation }}
        where
          reading_date >= {{ utc_date(timestamp_literal(scan_from)) }}
          and reading_at >= {{ timestamp_literal(scan_from) }}
      ),

      back as (
        select touched.meter_id, touched.first_new_at
        from touched
        left anti join near
          on
            touched.meter_id = near.meter_id
            and near.reading_at >= timestampadd(second, -{{ context_seconds }}, touched.first_new_at)
      ),

      previous as (
        select /*+ broadcast(back) */
          back.meter_id,
          max(loaded.reading_at) as reading_at
        from {{ relation }} as loaded
        inner join back
          on loaded.meter_id = back.meter_id and loaded.reading_at < back.first_new_at
        group by back.meter_id
      )

      select cast(min(reading_at) as string) from previous
    {% endset %}
    {% set outage_from = scalar_query(query) %}
    {% if outage_from is not none %}
      {% do bounds.update({'outage_from': outage_from, 'read_from': [scan_from, outage_from] | min}) %}
    {% endif %}
  {% endif %}
  {{ return(bounds) }}
{% endmacro %}
