{#
  Export a curated relation to one CSV file for Power BI.

    dbt run-operation export_csv                                   # fct_meter_readings, default path
    dbt run-operation export_csv --args '{relation: fct_meter_readings, path: /data/x.csv}'
    post_hook: "{{ export_csv(this) }}"                            # in a model's config

  The file: a header row, the relation's column order, UTF-8, timestamps as ISO-8601 UTC
  (2025-01-01T00:01:00.000Z), dates as yyyy-MM-dd, RFC 4180 quoting, nulls as empty cells, and
  text cells starting with = + - @ (or tab / carriage return) prefixed with ' so spreadsheet tools
  do not run them as formulas (OWASP "CSV injection").

  How the file is replaced atomically (Spark writes directories, not files):
    1. this macro writes the rows, sorted by the key, as ONE partition into a hidden staging
       directory beside the target, `.<file name>.staging/part-00000-*.csv`
       (`insert overwrite directory`, coalesced to one partition);
    2. `smartgrid export` / `smartgrid build` (transform/publish.py: publish_staged_exports)
       then renames that part file over the target, an atomic rename on one file system, and
       removes the staging directory. Readers see the old file or the new one, never half a file.
  Run from the shell, step 2 is `smartgrid export --publish-only` (or the next `smartgrid` build).

  On Databricks (dispatch below) the same statement writes the staging directory on a Unity
  Catalog Volume or an abfss:// path (var export_path); a Databricks job task publishes it
  (dbutils.fs.mv of the part file, see docs/dbt.md). Power BI reads the published file with the
  Azure Data Lake Storage Gen2 connector, or the curated tables directly with the Azure
  Databricks connector.
#}

{% macro export_csv(relation=none, path=none) %}
  {{ return(adapter.dispatch('export_csv', 'smartgrid')(relation, path)) }}
{% endmacro %}

{% macro default__export_csv(relation, path) %}
  {% if not execute %}
    {{ return('') }}
  {% endif %}
  {% set relation = relation or var('export_relation', 'fct_meter_readings') %}
  {% if relation is string %}
    {% set relation = ref(relation) %}
  {% endif %}
  {% set target_path = path or var('export_path', none) or (lake_path('curated') ~ '/smart_grid_curated.csv') %}
  {% set staging_dir = export_staging_dir(target_path) %}
  {% do run_query(export_csv_sql(relation, staging_dir)) %}
  {% do log('export_csv: staged ' ~ relation ~ ' for ' ~ target_path ~ ' in ' ~ staging_dir, info=true) %}
  {{ return('') }}
{% endmacro %}

{# `<dir>/.<name>.staging` for `<dir>/<name>`: hidden, so Spark and Power BI folder reads skip it. #}
{% macro export_staging_dir(target_path) %}
  {% set parts = target_path.rstrip('/').rsplit('/', 1) %}
  {{ return(parts[0] ~ '/.' ~ parts[1] ~ '.staging') }}
{% endmacro %}

{% macro export_csv_sql(relation, staging_dir) %}
  {% set columns = adapter.get_columns_in_relation(relation) %}
  {% set names = columns | map(attribute='name') | list %}
  {% set order_by = [] %}
  {% for key in ['timestamp', 'local_date', 'bucket_start', 'meter_id', 'time_of_day'] %}
    {% if key in names %}
      {% do order_by.append('`' ~ key ~ '`') %}
    {% endif %}
  {% endfor %}
  {% set select_list = [] %}
  {% for column in columns %}
    {% set quoted = '`' ~ column.name ~ '`' %}
    {% if column.dtype | lower in ('string', 'varchar') or (column.dtype | lower).startswith('varchar') %}
      {% do select_list.append(csv_safe_text(quoted) ~ ' as ' ~ quoted) %}
    {% else %}
      {% do select_list.append(quoted) %}
    {% endif %}
  {% endfor %}
  insert overwrite directory '{{ staging_dir }}'
  using csv
  options (
    header 'true',
    encoding 'UTF-8',
    timeZone 'UTC',
    timestampFormat "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'",
    dateFormat 'yyyy-MM-dd',
    quote '"',
    escape '"',
    nullValue '',
    emptyValue ''
  )
  select /*+ COALESCE(1) */ *
  from (
    select {{ select_list | join(', ') }}
    from {{ relation }}
    {% if order_by %}order by {{ order_by | join(', ') }}{% endif %}
  ) as sorted
{% endmacro %}

{# Neutralise spreadsheet formulas: a cell starting with = + - @ tab or CR gets a leading '. #}
{% macro csv_safe_text(column) %}
  {%- do return(
      "case when substr(" ~ column ~ ", 1, 1) in ('=', '+', '-', '@', char(9), char(13))"
      ~ " then concat('''', " ~ column ~ ") else " ~ column ~ " end"
  ) -%}
{% endmacro %}
