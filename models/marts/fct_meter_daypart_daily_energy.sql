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

with

{{ changed_meter_days_ctes(
    this, ref('fct_meter_readings'), ref('int_meter_readings__clean')
) }}

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
