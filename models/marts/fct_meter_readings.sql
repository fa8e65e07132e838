{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'timestamp'],
        on_schema_change='fail',
        post_hook="{{ set_watermark(this, ref('int_meter_readings__clean')) }}",
    )
}}

{#-
    The curated reading table behind smart_grid_curated.csv (the Power BI data set): the column
    names and their order are a contract with the dashboard and the Power BI kit.

    Incremental: recompute, per meter, every reading from the earliest one the clean table changed
    since this table's watermark (see macros/incremental.sql); the rolling voltage average of the
    readings after a late event changes too. The meter's two readings before it (searched within
    the lookback window) are read as context for the rolling average.
-#}

{%- set lookback_hours = var('lookback_hours') | int -%}
{%- set band = (var('voltage_band_pct') | float) / 100.0 -%}

{%- set watermark = get_watermark(this) if is_incremental() else none -%}
{%- set context_from = none -%}
{%- if watermark is not none -%}
{%- set context_from = over_changed_rows(
    'timestampadd(hour, -' ~ lookback_hours ~ ', min(reading_at))',
    ref('int_meter_readings__clean'), watermark) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}

with

clean as (

    select * from {{ ref('int_meter_readings__clean') }}
    {%- if incremental_run %}
    where reading_at >= {{ timestamp_literal(context_from) }}
    {%- endif %}

),

meters as (

    select * from {{ ref('stg_reference__meters') }}

),

dayparts as (

    select * from {{ ref('dayparts') }}

),

{% if incremental_run -%}
touched_meters as (

    select
        meter_id,
        min(reading_at) as recompute_from

    from clean
    where updated_at > {{ timestamp_literal(watermark) }}
    group by meter_id

),

-- the rolling voltage needs each touched meter's two readings before its first changed one
earlier_readings as (

    select
        clean.meter_id,
        clean.reading_at,
        row_number() over (
            partition by clean.meter_id order by clean.reading_at desc
        ) as readings_back

    from clean
    inner join touched_meters
        on
            clean.meter_id = touched_meters.meter_id
            and clean.reading_at < touched_meters.recompute_from

),

context_start as (

    select
        touched_meters.meter_id,
        touched_meters.recompute_from,
        coalesce(
            min(earlier_readings.reading_at), touched_meters.recompute_from
        ) as context_from

    from touched_meters
    left join earlier_readings
        on
            touched_meters.meter_id = earlier_readings.meter_id
            and earlier_readings.readings_back <= 2
    group by touched_meters.meter_id, touched_meters.recompute_from

),

in_scope as (

    select
        clean.*,
        context_start.recompute_from

    from clean
    inner join context_start
        on
            clean.meter_id = context_start.meter_id
            and clean.reading_at >= context_start.context_from

),

{% else -%}
in_scope as (

    select
        *,
        cast(null as timestamp) as recompute_from

    from clean

),

{% endif -%}
with_context as (

    select
        in_scope.*,
        {{ to_reporting_time('in_scope.reading_at') }} as local_reading_at,
        coalesce(meters.nominal_voltage_v, {{ var('nominal_voltage_v') }}) as nominal_voltage_v,
        case
            when in_scope.power_factor > 0
                then abs(in_scope.real_power_watts) / in_scope.power_factor
        end as apparent_power_va,
        avg(in_scope.voltage_v) over (
            partition by in_scope.meter_id
            order by in_scope.reading_at
            rows between 2 preceding and current row
        ) as rolling_avg_voltage_v

    from in_scope
    left join meters
        on in_scope.meter_id = meters.meter_id

),

flagged as (

    select
        *,
        case
            when voltage_v > nominal_voltage_v * (1 + {{ band }}) then 'over_voltage'
        end as over_voltage_reason,
        case
            when voltage_v < nominal_voltage_v * (1 - {{ band }}) then 'under_voltage'
        end as under_voltage_reason,
        case
            when power_factor < {{ var('min_power_factor') }} then 'low_power_factor'
        end as low_power_factor_reason,
        {{ high_demand_flag('real_power_watts', 'energy_kwh') }} as high_demand_flag

    from with_context
    {%- if incremental_run %}
    where reading_at >= recompute_from
    {%- endif %}

),

final as (

    select
        flagged.reading_at as `timestamp`,
        flagged.meter_id,
        flagged.energy_kwh,
        flagged.real_power_watts,
        flagged.voltage_v,
        flagged.power_factor,
        flagged.apparent_power_va,
        coalesce(
            flagged.reported_current_a,
            flagged.apparent_power_va / nullif(flagged.voltage_v, 0)
        ) as current_a,
        flagged.high_demand_flag,
        case
            when
                coalesce(
                    flagged.over_voltage_reason,
                    flagged.under_voltage_reason,
                    flagged.low_power_factor_reason
                ) is null
                then 'Normal'
            else 'Anomaly'
        end as anomaly_flag,
        nullif(concat_ws(
            ';',
            flagged.over_voltage_reason,
            flagged.under_voltage_reason,
            flagged.low_power_factor_reason
        ), '') as anomaly_reason,
        dayparts.time_of_day,
        to_date(flagged.local_reading_at) as local_date,
        flagged.rolling_avg_voltage_v

    from flagged
    left join dayparts
        on hour(flagged.local_reading_at) between dayparts.start_hour and dayparts.end_hour

)

select * from final
