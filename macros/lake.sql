{#
  Where the lake lives. `lake_root` var (CLI `--vars`) wins, then env SMARTGRID_LAKE (the Makefile
  exports it, absolute), then `lake`. Locally a directory; on Databricks a path of a Unity Catalog
  external location (abfss://<container>@<account>.dfs.core.windows.net/<prefix>): each bundle
  target passes its own prefix (databricks.yml).

  A Unity Catalog volume (/Volumes/...) is refused on Databricks, in one line naming the fix: the
  lake's Delta folders are registered as external tables (register_lake_sources.sql, and the
  models' location_root), and Unity Catalog defines no table on files in a volume. Locally
  /Volumes/ is an ordinary directory (macOS mounts disks there) and stays allowed.
#}
{% macro lake_root() %}
  {%- set root = (var('lake_root', none) or env_var('SMARTGRID_LAKE', 'lake')).rstrip('/') -%}
  {%- if execute and target.type == 'databricks' and root.replace('dbfs:', '', 1).startswith('/Volumes/') -%}
    {{ exceptions.raise_compiler_error(
        'lake_root ' ~ root ~ ' is a Unity Catalog volume, and tables cannot be defined on files in a volume: '
        ~ 'use a path of an external location (abfss://<container>@<account>.dfs.core.windows.net/<prefix>), '
        ~ 'see docs/deploy-azure.md') }}
  {%- endif -%}
  {{- return(root) -}}
{% endmacro %}

{#
  The schema holding the lake's source tables (register_lake_sources.sql): var `lake_schema`,
  else `<target schema>_lake`, so that every target (and every developer's dev schema) has its
  own; locally `smartgrid_lake`. The sources' yml states the same default inline (yml cannot
  call a macro).
#}
{% macro lake_schema() %}
  {{- return(var('lake_schema', none) or (target.schema ~ '_lake')) -}}
{% endmacro %}

{% macro lake_path(zone) %}
  {{- return(lake_root() ~ '/' ~ zone) -}}
{% endmacro %}

{# Run a query that returns one row and give back its first value (none while parsing). #}
{% macro scalar_query(sql) %}
  {% set row = first_row(sql) %}
  {{ return(row[0] if row is not none else none) }}
{% endmacro %}

{# One row of a query, as strings (none while parsing or when it returns no row). #}
{% macro first_row(sql) %}
  {% if not execute %}
    {{ return(none) }}
  {% endif %}
  {% set result = run_query(sql) %}
  {% if result is none or (result.rows | length) == 0 %}
    {{ return(none) }}
  {% endif %}
  {{ return(result.rows[0]) }}
{% endmacro %}

{# A SQL timestamp literal from a value read back from the warehouse (none -> null). #}
{% macro timestamp_literal(value) %}
  {%- if value is none -%}
    {{ return("cast(null as timestamp)") }}
  {%- endif -%}
  {{- return("timestamp '" ~ value ~ "'") -}}
{% endmacro %}
