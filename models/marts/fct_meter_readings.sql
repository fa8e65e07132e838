{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'timestamp'],
        partition_by=['local_date'],
        meta={'merge_window_column': 'local_date', 'merge_tombstone_column': 'anomaly_flag'},
        on_schema_change='fail',
        post_hook="{{ set_watermark(this, ref('int_meter_readings__clean')) }}",
    )
}}

{#-
    The curated reading table behind smart_grid_curated.csv (the Power BI data set): the column
    names and their order are a contract with the dashboard and the Power BI kit.

    What an incremental run recomputes, and its bounded merge: models/incremental.md.
-#}

{#- the two readings before a reading are usually within two intervals -#}
{%- set intervals = interval_rules() -%}
{%- set near_seconds = 2 * (
    [intervals.max_gap_seconds, intervals.nominal_interval_seconds] | max) -%}

{%- set watermark = get_watermark(this) if is_incremental() else none -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}
{%- set first_changed = none -%}
{%- if incremental_run -%}
{%- set first_changed = clean_changed_from(ref('int_meter_readings__clean'), watermark) -%}
{#- every row this run emits is from the first changed reading on: the merge reads those days -#}
{%- do set_merge_window(reporting_date_floor(timestamp_literal(first_changed))) -%}
{%- endif -%}
{%- set near_from = 'timestampadd(second, -' ~ near_seconds ~ ', '
    ~ timestamp_literal(first_changed) ~ ')' -%}

with

clean_rows as (

    select * from {{ ref('int_meter_readings__clean') }}
    {%- if incremental_run %}
    where
        reading_date >= {{ utc_date(timestamp_literal(first_changed)) }}
        and reading_at >= {{ timestamp_literal(first_changed) }}
    {%- endif %}

),

-- a reading held by var conflict_policy 'quarantine' stays out of every curated mart
clean as (

    select * from clean_rows
    where {{ not_held('conflict_status') }}

),

meters as (

    select * from {{ ref('stg_reference__meters') }}

),

dayparts as (

    select * from {{ ref('dayparts') }}

),

{% if incremental_run -%}
-- a reading held since the last run counts: the readings after it lose it from their rolling
-- voltage
touched_meters as (

    select
        meter_id,
        min(reading_at) as recompute_from

    from clean_rows
    where {{ changed_since(watermark) }}
    group by meter_id

),

-- readings held since the last run: their keys leave the table (tombstones, below)
newly_held as (

    select
        meter_id,
        reading_at

    from clean_rows
    where {{ changed_since(watermark) }} and not {{ not_held('conflict_status') }}

),

-- meter, time and voltage of the touched meters' readings from two intervals before the first
-- change on: the rolling window of a recomputed reading usually finds its two previous here
near_voltages as (

    select /*+ broadcast(touched_meters) */
        voltages.meter_id,
        voltages.reading_at,
        voltages.voltage_v

    from {{ ref('int_meter_readings__clean') }} as voltages
    inner join touched_meters
        on voltages.meter_id = touched_meters.meter_id
    where
        voltages.reading_date >= {{ utc_date(near_from) }}
        and voltages.reading_at >= {{ near_from }}
        and {{ not_held('voltages.conflict_status') }}

),

-- touched meters with fewer than two readings there before their first change (back after an
-- outage, or new): their two previous readings are looked up wherever they are. The set is
-- broadcast: Spark computes it first and, when it is empty, skips the scan.
short_of_context as (

    select touched_meters.meter_id

    from touched_meters
    left join near_voltages
        on
            touched_meters.meter_id = near_voltages.meter_id
            and near_voltages.reading_at < touched_meters.recompute_from
    group by touched_meters.meter_id
    having count(near_voltages.reading_at) < 2

),

earlier_voltages as (

    select /*+ broadcast(short_of_context) */
        voltages.meter_id,
        voltages.reading_at,
        voltages.voltage_v,
        row_number() over (
            partition by voltages.meter_id order by voltages.reading_at desc
        ) as readings_back

    from {{ ref('int_meter_readings__clean') }} as voltages
    inner join short_of_context
        on voltages.meter_id = short_of_context.meter_id
    where voltages.reading_at < {{ near_from }} and {{ not_held('voltages.conflict_status') }}

),

voltages as (

    select * from near_voltages
    union all
    select
        meter_id,
        reading_at,
        voltage_v

    from earlier_voltages
    where readings_back <= 2

),

rolling_voltages as (

    select
        voltages.meter_id,
        voltages.reading_at,
        avg(voltages.voltage_v) over (
            partition by voltages.meter_id
            order by voltages.reading_at
            rows between 2 preceding and current row
        ) as rolling_avg_voltage_v

    from voltages

),

-- every reading of a touched meter from its first changed one on, with its rolling voltage
in_scope as (

    select
        clean.*,
        rolling_voltages.rolling_avg_voltage_v

    from clean
    inner join touched_meters
        on
            clean.meter_id = touched_meters.meter_id
            and clean.reading_at >= touched_meters.recompute_from
    inner join rolling_voltages
        on
            clean.meter_id = rolling_voltages.meter_id
            and clean.reading_at = rolling_voltages.reading_at

),

{% else -%}
in_scope as (

    select
        *,
        avg(voltage_v) over (
            partition by meter_id
            order by reading_at
            rows between 2 preceding and current row
        ) as rolling_avg_voltage_v

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
        end as apparent_power_va

    from in_scope
    left join meters
        on in_scope.meter_id = meters.meter_id

),

flagged as (

    select
        *,
        {{ voltage_reason('over_voltage', 'voltage_v', 'nominal_voltage_v') }}
            as over_voltage_reason,
        {{ voltage_reason('under_voltage', 'voltage_v', 'nominal_voltage_v') }}
            as under_voltage_reason,
        {{ low_power_factor_reason('power_factor') }} as low_power_factor_reason,
        {{ high_demand_flag('real_power_watts', 'energy_kwh') }} as high_demand_flag

    from with_context

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

),

{% if incremental_run -%}
-- a tombstone per newly held key: the merge deletes its row (meta merge_tombstone_column, a
-- column every reading fills; macros/incremental/bounded_merge.sql) and inserts nothing
tombstones as (

    select
        reading_at as `timestamp`,
        meter_id,
        cast(null as double) as energy_kwh,
        cast(null as double) as real_power_watts,
        cast(null as double) as voltage_v,
        cast(null as double) as power_factor,
        cast(null as double) as apparent_power_va,
        cast(null as double) as current_a,
        cast(null as int) as high_demand_flag,
        cast(null as string) as anomaly_flag,
        cast(null as string) as anomaly_reason,
        cast(null as string) as time_of_day,
        to_date({{ to_reporting_time('reading_at') }}) as local_date,
        cast(null as double) as rolling_avg_voltage_v

    from newly_held

),

{% endif -%}
emitted as (

    select * from final
    {%- if incremental_run %}
    union all
    select * from tombstones
    {%- endif %}

)

select * from emitted
