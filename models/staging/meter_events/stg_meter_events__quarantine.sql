with

source as (

    select * from {{ source('meter_events', 'quarantine') }}

),

renamed as (

    select
        source_name,
        source_partition,
        source_offset,
        meter_id,
        event_timestamp as event_timestamp_text,
        reasons,
        element_at(reasons, 1) as first_reason,
        body,
        source_timestamp as source_at,
        ingest_time as ingested_at,
        batch_id

    from source

)

select * from renamed
