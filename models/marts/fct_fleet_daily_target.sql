{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='local_date',
        on_schema_change='fail',
        meta={'merge_whole_table': true},
    )
}}

{#-
    The Target Daily kWh gauge: fleet energy per day, its min, max and mean over the days to
    date, and the rolling target: the mean of the daily totals of the N days ending that day
    (N = var rolling_window_days; fewer while fewer days exist). One row per day: a small table,
    recomputed from the incremental daily table each run and merged whole into its table
    (meta merge_whole_table).
-#}

{%- set window_days = var('rolling_window_days') | int -%}

with

daily_energy as (

    select * from {{ ref('fct_meter_daily_energy') }}

),

fleet_days as (

    select
        local_date,
        sum(kwh) as fleet_kwh

    from daily_energy
    group by local_date

),

to_date_stats as (

    select
        local_date,
        fleet_kwh,
        min(fleet_kwh) over (
            order by local_date rows between unbounded preceding and current row
        ) as min_daily_kwh_to_date,
        max(fleet_kwh) over (
            order by local_date rows between unbounded preceding and current row
        ) as max_daily_kwh_to_date,
        avg(fleet_kwh) over (
            order by local_date rows between unbounded preceding and current row
        ) as avg_daily_kwh_to_date

    from fleet_days

),

-- calendar window (a day without readings is absent, not zero): the days d - N + 1 .. d
rolling as (

    select
        current_day.local_date,
        avg(window_day.fleet_kwh) as rolling_target_kwh,
        count(*) as rolling_window_days_used

    from fleet_days as current_day
    inner join fleet_days as window_day
        on
            current_day.local_date >= window_day.local_date
            and date_sub(current_day.local_date, {{ window_days }}) < window_day.local_date
    group by current_day.local_date

),

final as (

    select
        to_date_stats.local_date,
        to_date_stats.fleet_kwh,
        to_date_stats.min_daily_kwh_to_date,
        to_date_stats.max_daily_kwh_to_date,
        to_date_stats.avg_daily_kwh_to_date,
        rolling.rolling_target_kwh,
        rolling.rolling_window_days_used

    from to_date_stats
    inner join rolling
        on to_date_stats.local_date = rolling.local_date

)

select * from final
