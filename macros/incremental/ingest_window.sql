{#
  The ingest-day window of the data-quality marts (fct_ingest_daily, fct_quarantine_reasons).

  They count events per UTC ingest day. Recounting the validated and quarantine tables whole
  each run grows with the lake (at 10M readings it was the second-longest node of an
  incremental run, beside the clean model). The ingest job stamps each micro-batch with its
  ingest time and appends in that order (one ingest per lake: smartgrid/lock.py), so every event
  not yet counted was ingested on or after the newest day the mart already holds: a run recounts
  only the days from that one on, reading only the files ingested since (Delta skips the others
  on their ingest_time statistics), and the whole-table merge compares and deletes within that
  window only (whole_table_merge.sql). The same assumption bounds the clean model's read of new
  events (clean_bounds.sql).

  Returns the SQL timestamp of the window's start (UTC midnight of that day, whatever the
  session time zone), and hands the day to the merge (set_merge_window); none on the first run,
  a full refresh or an empty mart: everything is counted.
#}
{% macro ingest_window_start(relation, column='ingested_on') %}
  {% if not (execute and is_incremental()) %}
    {{ return(none) }}
  {% endif %}
  {% set day = scalar_query('select cast(max(' ~ column ~ ') as string) from ' ~ relation) %}
  {% if day is none %}
    {{ return(none) }}
  {% endif %}
  {% do set_merge_window("date'" ~ day ~ "'") %}
  {{ return("timestamp_seconds(unix_date(date'" ~ day ~ "') * 86400)") }}
{% endmacro %}
