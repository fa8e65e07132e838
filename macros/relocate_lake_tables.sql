{#
  on-run-start: a model registered in the metastore at another lake's location (the lake was
  moved, or one Spark session serves several lakes, as in the tests) is unregistered, so dbt
  rebuilds it where `location_root` says now, instead of merging into the old lake (incremental
  models) or failing on Delta's tableLocationMismatch (table models: `create or replace table
  ... location` does not re-point an existing Delta table). Only the metastore entry goes: the
  tables are external, their files stay.

  The same on Databricks: Unity Catalog refuses to re-point an external table too, and dropping
  one removes only its catalog entry. Where the lake moved, the new location must be covered by
  an external location the job's principal can write (docs/deploy-azure.md).
#}
{% macro relocate_lake_tables() %}
  {% if not execute or target.type not in ('spark', 'databricks') %}
    {{ return('') }}
  {% endif %}
  {% for node in graph.nodes.values() %}
    {% set location_root = node.config.get('location_root') %}
    {% if node.resource_type == 'model' and location_root and node.config.materialized in ('incremental', 'table') %}
      {% set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
      {% if relation is not none %}
        {% set registered = registered_location(relation) %}
        {% set expected = location_root.rstrip('/') ~ '/' ~ node.alias %}
        {% if registered is none or not same_location(registered, expected) %}
          {% do log('lake: ' ~ relation ~ ' was registered at ' ~ registered ~ '; re-creating it at ' ~ expected, info=true) %}
          {% do run_query('drop table if exists ' ~ relation) %}
          {% do adapter.cache_dropped(relation) %}
        {% endif %}
      {% endif %}
    {% endif %}
  {% endfor %}
  {{ return('') }}
{% endmacro %}

{#
  Where the metastore says a table lives. dbt-spark fills its relation cache from `show table
  extended`, whose text names the location: read it there rather than asking Delta for each
  table (`describe detail` loads the table's snapshot, about a second for a replaced table).
  dbt-databricks lists relations from information_schema, without a location: `describe
  detail` answers there.
#}
{% macro registered_location(relation) %}
  {% for line in (relation.information or '').split('\n') %}
    {% if line.startswith('Location: ') %}
      {{ return(line[10:] | trim) }}
    {% endif %}
  {% endfor %}
  {% set detail = run_query('describe detail ' ~ relation) %}
  {{ return(detail.columns['location'].values()[0] if detail.rows | length > 0 else none) }}
{% endmacro %}

{% macro normalize_location(location) %}
  {% set text = location | string %}
  {% if text.startswith('file://') %}
    {% set text = text[7:] %}
  {% elif text.startswith('file:') %}
    {% set text = text[5:] %}
  {% endif %}
  {{ return(text.rstrip('/')) }}
{% endmacro %}

{# A relative lake root (`lake`, dbt run from the repository root) matches its absolute form. #}
{% macro same_location(registered, expected) %}
  {% set registered = normalize_location(registered) %}
  {% set expected = normalize_location(expected) %}
  {% if expected.startswith('/') or '://' in expected %}
    {{ return(registered == expected) }}
  {% endif %}
  {{ return(registered.endswith('/' ~ expected.lstrip('./'))) }}
{% endmacro %}
