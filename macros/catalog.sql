{#
  `dbt docs generate` on dbt-spark: the Delta tables' columns in the catalog.

  dbt-spark builds catalog.json from the listing of each schema, `show table extended in <schema>
  like '*'`, reading every relation's columns from the `Schema:` tree in its text (impl.py:
  parse_columns_from_information); it asks nothing else. A Delta table keeps its schema in its
  own log, and Delta's catalog registers it in the Hive metastore with an empty schema, so the
  listing shows no column for any Delta table: the clean model, the marts, the seed and the lake
  sources registered over the ingest job's paths (register_lake_sources.sql) all went missing
  from the catalog; only the views and the CSV-backed meter registry, whose schema the metastore
  holds, were there.

  So, while `docs generate` runs, the listing gets the columns of every Delta table that shows
  none, from `describe table` (Delta answers from its log), written as the same tree lines
  (` |-- <name>: <type> (nullable = true)`). Other commands keep the plain listing: dbt lists
  each schema once per run to fill its relation cache, and describing every Delta table there
  would load each table's snapshot for nothing. The rows keep the listing's four fields
  (namespace, tableName, isTemporary, information), which is all dbt-spark reads of them.

  dbt-databricks has its own databricks__list_relations_without_caching (information_schema on
  Unity Catalog, which knows Delta's columns), found before this spark__ one.
#}
{% macro spark__list_relations_without_caching(relation) %}
  {% call statement('list_relations_without_caching', fetch_result=True) -%}
    show table extended in {{ relation.schema }} like '*'
  {% endcall %}
  {% set listed = load_result('list_relations_without_caching').table %}
  {% if flags.WHICH != 'generate' %}
    {{ return(listed) }}
  {% endif %}
  {% set rows = [] %}
  {% for row in listed %}
    {% set information = row[3] or '' %}
    {% if 'Provider: delta' in information and '\n |-- ' not in information %}
      {% set information = information.rstrip('\n') ~ '\n' ~ delta_column_tree(row[0], row[1]) %}
    {% endif %}
    {% do rows.append([row[0], row[1], row[2], information]) %}
  {% endfor %}
  {{ return(rows) }}
{% endmacro %}


{# A Delta table's columns as `show table extended` prints a schema tree, from `describe table`. #}
{% macro delta_column_tree(schema, identifier) %}
  {% set lines = [] %}
  {% set state = namespace(in_columns=true) %}
  {% set described = run_query('describe table `' ~ schema ~ '`.`' ~ identifier ~ '`') %}
  {% for column in described %}
    {# the columns come first; a blank row or a `# Partition Information` header ends them #}
    {% if not column[0] or column[0].startswith('#') %}
      {% set state.in_columns = false %}
    {% endif %}
    {% if state.in_columns %}
      {% do lines.append(' |-- ' ~ column[0] ~ ': ' ~ column[1] ~ ' (nullable = true)') %}
    {% endif %}
  {% endfor %}
  {{ return(lines | join('\n') ~ '\n') }}
{% endmacro %}
