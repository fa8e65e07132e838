{#
  on-run-start: register the ingest job's Delta tables (written by path, no metastore) and the
  meter registry CSV as tables in the lake schema (macros/lake.sql: var `lake_schema`, else
  `<target schema>_lake`), so sources resolve by name.

  - A table already registered at the current lake's location is left as it is (one listing of
    the schema finds them all); any other is dropped and re-created (metadata only: they are
    external tables, the files stay), so the names always point at the current lake, even when
    a test or a user switches lakes under one metastore.
  - A Delta table that does not exist yet is created empty with the contract schema of
    ingest/tables.py (tests/dbt checks these column lists against it), so `dbt build` works
    before the first ingest. An existing one is registered without a schema: Delta keeps its own.
  - adapter.dispatch: on Databricks the same statements register Unity Catalog external tables
    over abfss:// locations (catalog = target.database); set var register_lake_tables=false when
    the tables are managed elsewhere.
  - Ownership (docs/deploy-azure.md): the principal running dbt creates, so owns, the registered
    tables. Once a path is a table's location, Unity Catalog governs writes to it by that table's
    privileges: the ingest job writes by path and needs MODIFY on raw, validated and quarantine.
    The bundle runs both jobs as one principal, the owner. Where the ingest runs as another
    principal, set var `lake_writer` to it: each run grants it SELECT and MODIFY on the three.
#}

{% macro lake_contract_columns() %}
  {% set lineage = [
      ('source_name', 'string'), ('source_partition', 'int'), ('source_offset', 'bigint'),
      ('source_timestamp', 'timestamp'), ('ingest_time', 'timestamp'), ('batch_id', 'bigint')] %}
  {{ return({
      'raw': [('body', 'string'), ('body_bytes', 'binary')] + lineage,
      'validated': [
          ('event_id', 'string'), ('timestamp', 'timestamp'), ('meter_id', 'string'),
          ('real_power_watts', 'double'), ('voltage', 'double'), ('power_factor', 'double'),
          ('energy_kwh', 'double'), ('current_a', 'double'), ('schema_version', 'int'),
          ('extra_fields', 'string')] + lineage,
      'quarantine': [
          ('body', 'string'), ('reasons', 'array<string>'), ('meter_id', 'string'),
          ('event_timestamp', 'string')] + lineage,
  }) }}
{% endmacro %}

{# The meter registry written by the producer: <lake>/reference/meters.csv (may be absent). #}
{% macro meter_registry_columns() %}
  {{ return([('meter_id', 'string'), ('profile', 'string'), ('has_solar', 'string'),
             ('nominal_voltage', 'string'), ('reports_energy', 'string')]) }}
{% endmacro %}

{% macro register_lake_sources() %}
  {# The first hook: a lake root Databricks cannot use is refused before anything is written. #}
  {% do lake_root() %}
  {{ return(adapter.dispatch('register_lake_sources', 'smartgrid')()) }}
{% endmacro %}

{% macro lake_relation(identifier, database=none) %}
  {{ return(api.Relation.create(database=database, schema=lake_schema(), identifier=identifier)) }}
{% endmacro %}

{% macro default__register_lake_sources() %}
  {{ return(register_lake_tables(database=none)) }}
{% endmacro %}

{% macro databricks__register_lake_sources() %}
  {# Unity Catalog: three-part names in the target catalog. #}
  {{ return(register_lake_tables(database=target.database)) }}
{% endmacro %}

{% macro register_lake_tables(database) %}
  {% if not execute or not var('register_lake_tables', true) %}
    {{ return('') }}
  {% endif %}
  {% set schema_relation = api.Relation.create(database=database, schema=lake_schema()) %}
  {% do run_query('create schema if not exists ' ~ schema_relation) %}
  {% for name, columns in lake_contract_columns().items() %}
    {% set location = lake_path(name) %}
    {% set relation = lake_relation(name, database) %}
    {% if not registered_at(relation, location) %}
      {% do run_query('drop table if exists ' ~ relation) %}
      {% if delta_table_exists(location, database) %}
        {% do run_query("create table " ~ relation ~ " using delta location '" ~ location ~ "'") %}
      {% else %}
        {% set ddl = [] %}
        {% for column, data_type in columns %}
          {% do ddl.append('`' ~ column ~ '` ' ~ data_type) %}
        {% endfor %}
        {% do log('lake: no Delta table at ' ~ location ~ ' yet; creating it empty', info=true) %}
        {% do run_query("create table " ~ relation ~ " (" ~ ddl | join(', ') ~ ") using delta location '" ~ location ~ "'") %}
      {% endif %}
    {% endif %}
    {% do grant_lake_writer(relation) %}
  {% endfor %}
  {# The registry is optional: a CSV table over the reference directory reads no rows when
     meters.csv is absent (replayed data), and `refresh` picks up a file written since. #}
  {% set registry = lake_relation('meter_registry', database) %}
  {% set ddl = [] %}
  {% for column, data_type in meter_registry_columns() %}
    {% do ddl.append('`' ~ column ~ '` ' ~ data_type) %}
  {% endfor %}
  {% if not registered_at(registry, lake_path('reference')) %}
    {% do run_query('drop table if exists ' ~ registry) %}
    {% do run_query("create table " ~ registry ~ " (" ~ ddl | join(', ') ~ ") using csv options (header 'true', pathGlobFilter 'meters.csv') location '" ~ lake_path('reference') ~ "'") %}
  {% endif %}
  {% do run_query('refresh table ' ~ registry) %}
  {{ return('') }}
{% endmacro %}

{# Unity Catalog only: SELECT and MODIFY on a registered lake table for var `lake_writer`. #}
{% macro grant_lake_writer(relation) %}
  {% set writer = var('lake_writer', none) %}
  {% if writer and target.type == 'databricks' %}
    {% do run_query('grant select, modify on table ' ~ relation ~ ' to `' ~ writer ~ '`') %}
  {% endif %}
{% endmacro %}

{#
  Whether `relation` is registered in the metastore at `location` (relocate_lake_tables.sql).
  dbt lists the schema once and answers the other tables from its cache.
#}
{% macro registered_at(relation, location) %}
  {% set registered = adapter.get_relation(
      database=relation.database, schema=relation.schema, identifier=relation.identifier) %}
  {{ return(registered is not none and same_location(registered_location(registered), location)) }}
{% endmacro %}

{#
  Whether a Delta table exists at `location`, without failing when the path does not exist:
  a text table over its _delta_log reads no rows when the directory is missing.
#}
{% macro delta_table_exists(location, database=none) %}
  {% set probe = lake_relation('_delta_log_probe', database) %}
  {% do run_query('drop table if exists ' ~ probe) %}
  {% do run_query("create table " ~ probe ~ " (value string) using text options (pathGlobFilter '*.json') location '" ~ location ~ "/_delta_log'") %}
  {% set found = scalar_query('select count(*) from (select 1 from ' ~ probe ~ ' limit 1) as probe') %}
  {% do run_query('drop table if exists ' ~ probe) %}
  {{ return(found is not none and found > 0) }}
{% endmacro %}
