{#
  Whole-table merges: the small marts rebuilt in place.

  A `table` model is re-created (`create or replace table`) on every run: Delta gives it a new
  table id each time (readers by path see another table, and Delta logs "Change in the table id
  detected"), and a run with no new data still writes a version. A small mart that is cheap to
  recompute whole is instead materialised `incremental` (strategy merge, its key as unique_key)
  with `meta: {merge_whole_table: true}`: the project's get_merge_sql (bounded_merge.sql) hands
  it to whole_table_merge_sql below, which makes the target equal to the model's result in place:

    merge into <target> using <model's rows> on <key, null-safe>
    when matched and <any other column differs, null-safe> then update set <other columns>
    when not matched then insert (<all columns>) values (...)
    when not matched by source then delete

  The table keeps its id, and only the rows that changed are rewritten. Even a merge that
  changes nothing rewrites files and commits a version (the by-source delete scans the whole
  target), so first a read-only check compares the two as multisets, one aggregation over both
  (what `target except all source union all source except all target` tells, in one pass):
  when nothing differs, no write at all is sent, only a `select` as dbt's main statement, and
  the table's Delta version stays. `--full-refresh` and the first run still create the table.

  A mart that also names `meta: merge_window_column` and sets a window in an incremental run
  (the data-quality marts: ingest_window.sql) emits only the rows from the window's start on:
  the comparison reads the target's rows in the window only, and the by-source delete is
  limited to them (`when not matched by source and <column> >= <start> then delete`); the rows
  before the window are left as they are.

  adapter.dispatch: dbt-spark (spark__ -> default__) and dbt-databricks (databricks__ ->
  spark__ -> default__) both resolve default__; Delta OSS 4.x and Databricks SQL accept the
  same statement.
#}


{% macro whole_table_merge_sql(target, source, unique_key, window=none) %}
  {{ return(adapter.dispatch('whole_table_merge_sql', 'smartgrid')(target, source, unique_key, window)) }}
{% endmacro %}


{% macro default__whole_table_merge_sql(target, source, unique_key, window=none) %}
  {%- if not unique_key -%}
    {% do exceptions.raise_compiler_error(
        'meta merge_whole_table needs a unique_key (the merge matches rows on it): ' ~ target) %}
  {%- endif -%}
  {%- set keys = [unique_key] if unique_key is string else unique_key | list -%}
  {%- set lowered_keys = keys | map('lower') | list -%}
  {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
  {%- set values = [] -%}
  {%- for column in columns if column | lower not in lowered_keys -%}
    {%- do values.append(column) -%}
  {%- endfor -%}

  {%- if not whole_table_differs(target, source, columns, window) -%}
    {% do log('whole-table merge: ' ~ target ~ ' already equals the model; nothing written', info=true) %}
    {{ return(whole_table_unchanged_sql(target)) }}
  {%- endif -%}

  {%- set dest, src = 'DBT_INTERNAL_DEST', 'DBT_INTERNAL_SOURCE' -%}
  merge into {{ target }} as {{ dest }}
  using {{ source }} as {{ src }}
  on
    {%- for key in keys %}
    {{ dest }}.{{ adapter.quote(key) }} <=> {{ src }}.{{ adapter.quote(key) }}{{ ' and' if not loop.last }}
    {%- endfor %}
  {%- if values %}
  when matched and (
    {%- for column in values %}
    not ({{ dest }}.{{ adapter.quote(column) }} <=> {{ src }}.{{ adapter.quote(column) }}){{ ' or' if not loop.last }}
    {%- endfor %}
  ) then update set
    {%- for column in values %}
    {{ adapter.quote(column) }} = {{ src }}.{{ adapter.quote(column) }}{{ ',' if not loop.last }}
    {%- endfor %}
  {%- endif %}
  when not matched then insert (
    {%- for column in columns %}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor -%}
  ) values (
    {%- for column in columns %}{{ src }}.{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor -%}
  )
  when not matched by source
  {%- if window %} and {{ dest }}.{{ adapter.quote(window[0]) }} >= {{ window[1] }}{% endif %}
  then delete
{% endmacro %}


{#
  Whether the target and the model's rows differ as multisets (null-safe: grouping treats nulls
  as equal), read-only: every distinct row counted +1 per target copy and -1 per source copy; a
  row whose count is not zero is in one more often than in the other. One row is enough.
#}
{% macro whole_table_differs(target, source, columns, window=none) %}
  {%- set quoted = [] -%}
  {%- for column in columns -%}
    {%- do quoted.append(adapter.quote(column)) -%}
  {%- endfor -%}
  {%- set query -%}
    select 1 as differs
    from (
      select {{ quoted | join(', ') }}, 1 as side from {{ target }}
      {%- if window %}
      where {{ adapter.quote(window[0]) }} >= {{ window[1] }}
      {%- endif %}
      union all
      select {{ quoted | join(', ') }}, -1 as side from {{ source }}
    ) as both_sides
    group by {{ quoted | join(', ') }}
    having sum(side) <> 0
    limit 1
  {%- endset -%}
  {{ return(first_row(query) is not none) }}
{% endmacro %}


{# dbt's main statement when nothing is written: a read, so the table's Delta log is untouched. #}
{% macro whole_table_unchanged_sql(target) %}
  {{ return("select 'unchanged' as whole_table_merge") }}
{% endmacro %}
