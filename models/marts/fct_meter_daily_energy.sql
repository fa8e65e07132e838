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

with

{{ changed_meter_days_ctes(
    this, ref('fct_meter_readings'), ref('int_meter_readings__clean')
) }}

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
