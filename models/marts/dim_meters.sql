{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='meter_id',
        on_schema_change='fail',
        meta={'merge_whole_table': true},
    )
}}

{#-
    One row per meter seen in the readings or listed in the registry. profile and has_solar
    come from the registry (null for replayed data, which has none). The readings are counted
    from the per-day aggregate (fct_meter_daypart_daily_energy, incremental): a small table,
    recomputed each run and merged whole into its table (meta merge_whole_table).
-#}

with

daypart_days as (

    select * from {{ ref('fct_meter_daypart_daily_energy') }}

),

registry as (

    select * from {{ ref('stg_reference__meters') }}

),

seen as (

    select
        meter_id,
        min(first_reading_at) as first_seen_at,
        max(last_reading_at) as last_seen_at,
        sum(reading_count) as reading_count

    from daypart_days
    group by meter_id

),

final as (

    select
        coalesce(seen.meter_id, registry.meter_id) as meter_id,
        registry.profile,
        registry.has_solar,
        coalesce(registry.nominal_voltage_v, {{ var('nominal_voltage_v') }}) as nominal_voltage,
        seen.first_seen_at,
        seen.last_seen_at,
        coalesce(seen.reading_count, 0) as reading_count

    from seen
    full outer join registry
        on seen.meter_id = registry.meter_id

)

select * from final
