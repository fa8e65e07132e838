{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'local_date', 'time_of_day'],
        on_schema_change='fail',
        meta={'merge_tombstone_column': 'reading_count'},
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

dayparts as (

    select distinct time_of_day from {{ ref('dayparts') }}

),

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

),

-- a daypart of a changed day left without readings: a tombstone, so that the merge deletes it
tombstones as (

    select
        changed_days.meter_id,
        changed_days.local_date,
        dayparts.time_of_day,
        cast(null as double) as kwh,
        cast(null as bigint) as reading_count,
        cast(null as timestamp) as first_reading_at,
        cast(null as timestamp) as last_reading_at

    from changed_days
    cross join dayparts
    left anti join final
        on
            changed_days.meter_id = final.meter_id
            and changed_days.local_date = final.local_date
            and dayparts.time_of_day = final.time_of_day

)

select * from final
union all
select * from tombstones
