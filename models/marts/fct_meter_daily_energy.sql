{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'local_date'],
        on_schema_change='fail',
        post_hook="{{ set_watermark(this, ref('int_meter_readings__clean')) }}",
    )
}}

{#-
    Daily energy per meter and reporting-time-zone day. Incremental: the (meter, day) pairs whose
    clean readings changed since this table's watermark are recomputed from fct_meter_readings.
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
daily as (

    select
        meter_id,
        local_date,
        sum(energy_kwh) as kwh,
        count(*) as reading_count,
        max(real_power_watts) as peak_watts,
        min(voltage_v) as min_voltage_v,
        max(voltage_v) as max_voltage_v,
        sum(case when anomaly_flag = 'Anomaly' then 1 else 0 end) as anomaly_count

    from in_scope
    group by meter_id, local_date

),

final as (

    select
        meter_id,
        local_date,
        kwh,
        reading_count,
        {{ expected_readings_per_day() }} as expected_reading_count,
        cast(reading_count as double) / {{ expected_readings_per_day() }} as completeness,
        peak_watts,
        min_voltage_v,
        max_voltage_v,
        anomaly_count

    from daily

)

select * from final
