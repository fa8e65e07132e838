-- The incremental daily table must agree with the incremental reading table it summarises:
-- every (meter, day) present in both with the same energy and reading count. Drift here means
-- an incremental run missed or double-counted a change.
with

readings as (

    select
        meter_id,
        local_date,
        sum(energy_kwh) as kwh,
        count(*) as reading_count

    from {{ ref('fct_meter_readings') }}
    group by meter_id, local_date

),

daily as (

    select * from {{ ref('fct_meter_daily_energy') }}

),

compared as (

    select
        coalesce(readings.meter_id, daily.meter_id) as meter_id,
        coalesce(readings.local_date, daily.local_date) as local_date,
        readings.kwh as readings_kwh,
        daily.kwh as daily_kwh,
        readings.reading_count as readings_count,
        daily.reading_count as daily_count

    from readings
    full outer join daily
        on
            readings.meter_id = daily.meter_id
            and readings.local_date = daily.local_date

)

select * from compared
where
    readings_count is null
    or daily_count is null
    or readings_count != daily_count
    or abs(readings_kwh - daily_kwh) > 1e-9 * greatest(1.0, abs(readings_kwh))
