{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'time_of_day'],
        on_schema_change='fail',
        meta={'merge_whole_table': true},
    )
}}

{#-
    Meter Energy by Daypart: energy per meter and time of day (Night, Morning, Afternoon, Evening
    in the reporting time zone), over all the readings kept. Summed from the per-day aggregate
    (fct_meter_daypart_daily_energy, incremental): a small table, recomputed each run and
    merged whole into its table (meta merge_whole_table).
-#}

with

daypart_days as (

    select * from {{ ref('fct_meter_daypart_daily_energy') }}

),

final as (

    select
        meter_id,
        time_of_day,
        sum(kwh) as kwh,
        sum(reading_count) as reading_count

    from daypart_days
    group by meter_id, time_of_day

)

select * from final
