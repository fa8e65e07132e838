{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'local_date', 'time_of_day'],
        on_schema_change='fail',
        post_hook="{{ set_watermark(this, ref('int_meter_readings__clean')) }}",
    )
}}

{#-
    Energy per meter, reporting-time-zone day and daypart, with the readings counted and the
    first and last of them: the small aggregate that fct_meter_daypart_energy and dim_meters
    sum up instead of rescanning every reading each run. Incremental like fct_meter_daily_energy:
    the (meter, day) pairs whose clean readings changed since this table's watermark are
    recomputed, every daypart of them, from fct_meter_readings.
-#}

{%- set watermark = get_watermark(this) if is_incremental() else none -%}
{%- set first_day = none -%}
{%- if watermark is not none -%}
{%- set first_day = over_changed_rows(
    'to_date(min(' ~ to_reporting_time('reading_at') ~ '))',
    ref('int_meter_readings__clean'), watermark) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}

with

readings as (

    select * from {{ ref('fct_meter_readings') }}
    {%- if incremental_run %}
    where local_date >= {{ "date '" ~ first_day ~ "'" if first_day else 'cast(null as date)' }}
    {%- endif %}

),

{% if incremental_run -%}
changed_days as (

    select distinct
        meter_id,
        to_date({{ to_reporting_time('reading_at') }}) as local_date

    from {{ ref('int_meter_readings__clean') }}
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
in_scope as (

    select * from readings

),

{% endif -%}
final as (

    select
        meter_id,
        local_date,
        time_of_day,
        sum(energy_kwh) as kwh,
        count(*) as reading_count,
        min(`timestamp`) as first_reading_at,
        max(`timestamp`) as last_reading_at

    from in_scope
    group by meter_id, local_date, time_of_day

)

select * from final
