with

source as (

    select
        *,
        get_json_object(extra_fields, '$.sent_at') as sent_at_text

    from {{ source('meter_events', 'validated') }}

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
        -- when the producer sent this version (optional `sent_at`, UTC ISO-8601 ms Z, kept by the
        -- ingest among the unknown fields): orders conflicting versions (var conflict_policy);
        -- absent or not in that form: null
        case
            when
                sent_at_text
                rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$'
                then try_to_timestamp(sent_at_text, "yyyy-MM-dd'T'HH:mm:ss.SSSX")
        end as sent_at,
        source_name,
        source_partition,
        source_offset,
        source_timestamp as source_at,
        ingest_time as ingested_at,
        batch_id

    from source

)

select * from renamed
