{#-
    Meter Energy by Daypart: energy per meter and time of day (Night, Morning, Afternoon, Evening
    in the reporting time zone), over all the readings kept.
-#}

with

readings as (

    select * from {{ ref('fct_meter_readings') }}

),

final as (

    select
        meter_id,
        time_of_day,
        sum(energy_kwh) as kwh,
        count(*) as reading_count

    from readings
    group by meter_id, time_of_day

)

select * from final
