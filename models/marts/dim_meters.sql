{#-
    One row per meter seen in the readings or listed in the registry. profile and has_solar
    come from the registry (null for replayed data, which has none).
-#}

with

clean as (

    select * from {{ ref('int_meter_readings__clean') }}

),

registry as (

    select * from {{ ref('stg_reference__meters') }}

),

seen as (

    select
        meter_id,
        min(reading_at) as first_seen_at,
        max(reading_at) as last_seen_at,
        count(*) as reading_count

    from clean
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
