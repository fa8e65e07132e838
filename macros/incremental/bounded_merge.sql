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
  A model with `meta: merge_whole_table` gets a whole-table merge instead (whole_table_merge.sql).
#}
{% macro get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
  {%- set predicates = [] + (kwargs.get('predicates', incremental_predicates) or []) -%}
  {%- set meta = config.get('meta') or {} -%}
  {%- if meta.get('merge_whole_table') -%}
    {%- set window = none -%}
    {%- if meta.get('merge_window_column') and meta.get('merge_window_start') -%}
      {%- set window = (meta.get('merge_window_column'), meta.get('merge_window_start')) -%}
    {%- endif -%}
    {{ return(whole_table_merge_sql(target, source, unique_key, window)) }}
  {%- endif -%}
  {%- if meta.get('merge_window_column') and meta.get('merge_window_start') -%}
    {%- set column = config.get('target_alias', 'DBT_INTERNAL_DEST')
        ~ '.' ~ meta.get('merge_window_column') -%}
    {%- set predicate -%}
      ({{ column }} >= {{ meta.get('merge_window_start') }} or {{ column }} is null)
    {%- endset -%}
    {%- do predicates.append(predicate) -%}
  {%- endif -%}
  {%- if meta.get('merge_tombstone_column') -%}
    {{ return(tombstone_merge_sql(
        target, source, unique_key, predicates, meta.get('merge_tombstone_column'))) }}
  {%- endif -%}
  {{ adapter.dispatch('get_merge_sql', 'dbt')(target, source, unique_key, dest_columns, predicates) }}
{%- endmacro %}


{#
  Tombstones: a merge that can also remove rows.

  An upsert cannot take a row out of its target: a reading already curated that becomes held
  (var conflict_policy 'quarantine') in a later run, or a (meter, day) whose only readings did,
  would stay until --full-refresh. A model with `meta: merge_tombstone_column: <column>` emits,
  in an incremental run, a tombstone for each key it must remove: a row with that key whose
  <column> is null (a column every real row of the model fills; the contract stays the business
  columns). The merge deletes the target row a tombstone matches and never inserts one:

    merge into <target> using <model's rows> on <key> [and <partition bound>]
    when matched and <source>.<column> is null then delete
    when matched then update set *
    when not matched and <source>.<column> is not null then insert *

  Delta OSS and Databricks SQL both accept it (a condition on `when matched ... then delete`).
  The bound (set_merge_window) still applies: a tombstone has its row's key, hence its partition.
#}
{% macro tombstone_merge_sql(target, source, unique_key, predicates, column) %}
  {%- set dest = config.get('target_alias', 'DBT_INTERNAL_DEST') -%}
  {%- set src = 'DBT_INTERNAL_SOURCE' -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key | list -%}
  {%- set conditions = [] -%}
  {%- for key in keys -%}
    {%- do conditions.append(src ~ '.' ~ adapter.quote(key) ~ ' = ' ~ dest ~ '.' ~ adapter.quote(key)) -%}
  {%- endfor -%}
  {%- set marker = src ~ '.' ~ adapter.quote(column) -%}
  merge into {{ target }} as {{ dest }}
  using {{ source }} as {{ src }}
  on {{ (conditions + predicates) | join(' and ') }}
  when matched and {{ marker }} is null then delete
  when matched then update set *
  when not matched and {{ marker }} is not null then insert *
{% endmacro %}
