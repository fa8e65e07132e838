{#
  What the clean table's runs changed since a mart's watermark: the earliest changed reading,
  and the (meter, reporting-time-zone day) pairs whose readings a daily mart recomputes.
#}


{#
  The earliest clean reading changed since a mart's `watermark`, as text (none when nothing
  changed). When the mart absorbed every clean run but the last (the usual case), it is the
  clean table's `changed_from` (set_clean_watermark); otherwise a query over the rows changed
  since the watermark.
#}
{% macro clean_changed_from(clean_relation, watermark) %}
  {% set clean = incremental_state(clean_relation) %}
  {% if clean.get('updated_watermark') == watermark %}
    {{ return(none) }}
  {% endif %}
  {% if clean.get('changed_from') and clean.get('previous_updated_watermark') == watermark %}
    {{ return(clean.get('changed_from')) }}
  {% endif %}
  {{ return(over_changed_rows('min(reading_at)', clean_relation, watermark)) }}
{% endmacro %}

{# `expression` (e.g. min(reading_at)) over the clean rows updated after `watermark`, as text. #}
{% macro over_changed_rows(expression, clean_relation, watermark) %}
  {% set query %}
    select cast({{ expression }} as string)
    from {{ clean_relation }}
    where {{ changed_since(watermark) }}
  {% endset %}
  {{ return(scalar_query(query)) }}
{% endmacro %}

{#
  The import CTEs of an incremental daily mart (`readings`, `changed_days`, `in_scope`, each
  followed by a comma): every reading of fct_meter_readings in the (meter, reporting-time-zone
  day) pairs whose clean rows changed since the mart's watermark (`changed_days`); all readings
  on a first run or a full refresh (`changed_days` empty). A changed day left without readings
  (they were all held by var conflict_policy 'quarantine') gets a tombstone from the mart, so
  that its merge deletes the day's rows (meta merge_tombstone_column, bounded_merge.sql).
#}
{% macro changed_meter_days_ctes(relation, readings_relation, clean_relation) %}
{%- set watermark = get_watermark(relation) if is_incremental() else none -%}
{%- set first_changed = none -%}
{%- if watermark is not none -%}
{%- set first_changed = clean_changed_from(clean_relation, watermark) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}


readings as (

    select * from {{ readings_relation }}
    {%- if incremental_run %}
    where local_date >= {{ reporting_date_floor(timestamp_literal(first_changed)) }}
    {%- endif %}

),

{% if incremental_run -%}
changed_days as (

    select distinct
        meter_id,
        to_date({{ to_reporting_time('reading_at') }}) as local_date

    from {{ clean_relation }}
    where {{ changed_since(watermark) }}

),

in_scope as (

    select readings.*

    from readings
    inner join changed_days
        on
            readings.meter_id = changed_days.meter_id
            and readings.local_date = changed_days.local_date

),

{% else -%}
-- a full run recomputes every day: none to delete
changed_days as (

    select
        meter_id,
        local_date

    from readings
    where false

),

in_scope as (

    select * from readings

),

{% endif -%}
{% endmacro %}
