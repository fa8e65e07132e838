{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'local_date'],
        on_schema_change='fail',
        meta={'merge_tombstone_column': 'reading_count'},
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

),

-- a changed day left without readings: a tombstone, so that the merge deletes its row
tombstones as (

    select
        changed_days.meter_id,
        changed_days.local_date,
        cast(null as double) as kwh,
        cast(null as bigint) as reading_count,
        cast(null as int) as expected_reading_count,
        cast(null as double) as completeness,
        cast(null as double) as peak_watts,
        cast(null as double) as min_voltage_v,
        cast(null as double) as max_voltage_v,
        cast(null as bigint) as anomaly_count

    from changed_days
    left anti join daily
        on
            changed_days.meter_id = daily.meter_id
            and changed_days.local_date = daily.local_date

)

select * from final
union all
select * from tombstones
