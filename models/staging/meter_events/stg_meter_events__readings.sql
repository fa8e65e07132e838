with

source as (

    select * from {{ source('meter_events', 'validated') }}

),

renamed as (

    select
        event_id,
        meter_id,
        -- the event time, UTC (Spark timestamps are instants; the session time zone is UTC)
        `timestamp` as reading_at,
        real_power_watts,
        voltage as voltage_v,
        power_factor,
        energy_kwh as reported_energy_kwh,
        current_a as reported_current_a,
        schema_version,
        extra_fields,
        source_name,
        source_partition,
        source_offset,
        source_timestamp as source_at,
        ingest_time as ingested_at,
        batch_id

    from source

)

select * from renamed
