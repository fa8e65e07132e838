{{
    config(
        unique_key=['meter_id', 'reading_at'],
        partition_by=['reading_date'],
        meta={'merge_window_column': 'reading_date'},
        post_hook="{{ set_clean_watermark(this) }}",
    )
}}

{#-
    One row per (meter_id, reading_at): the last ingested version of each reading, with the
    energy of its interval.

    Incremental runs read from the validated table only the events ingested since the newest
    ingested_at already here (Delta skips the older files on their ingest_time statistics), and
    only those within the lookback window (event time) before the newest reading. Duplicates of
    a loaded reading: the newest copy wins (it was ingested later than anything loaded) and the
    copies are added to the count. A new reading can change one loaded reading: the one just
    before it, whose interval now ends at the new reading. The rows already here from one
    interval (max(max_gap, nominal interval)) before each touched meter's first new reading on
    are read narrow (key and interval) to find it; a meter with nothing loaded that close (back
    after an outage) has its newest loaded reading looked up wherever it is
    (macros/incremental.sql, clean_incremental_bounds), as its nominal interval becomes the cap.
    Only the loaded rows whose interval changed are re-read whole, by partition and key, and
    merged with the new readings: a run with no new data merges nothing.

    Partitioned by reading_date (UTC): the merge (bounded, see macros/incremental.sql) reads
    only the partitions from the run's earliest row on.
-#}

{%- set max_gap = var('max_gap_seconds') | int -%}
{%- set nominal = var('nominal_interval_seconds') | int -%}
{%- set context_seconds = [max_gap, nominal] | max -%}
{%- set lookback_hours = var('lookback_hours') | int -%}

{%- set bounds = none -%}
{%- if is_incremental() -%}
{%- set bounds = clean_incremental_bounds(
    this, ref('stg_meter_events__readings'), lookback_hours, context_seconds,
    max_gap > nominal) -%}
{#- every row this run emits is from read_from on: the merge reads only those partitions -#}
{%- do set_merge_window(utc_date(timestamp_literal(bounds.read_from)) if bounds else none) -%}
{%- endif -%}
{%- set incremental_run = bounds is not none -%}

with

readings as (

    select * from {{ ref('stg_meter_events__readings') }}
    {%- if incremental_run %}
    where
        ingested_at > {{ timestamp_literal(bounds.ingested_after) }}
        and ingested_at <= {{ timestamp_literal(bounds.ingested_until) }}
        and reading_at >= {{ timestamp_literal(bounds.window_from) }}
    {%- endif %}

),

versions as (

    select
        *,
        row_number() over (
            partition by meter_id, reading_at
            order by ingested_at desc, batch_id desc, source_offset desc
        ) as version_rank,
        count(*) over (partition by meter_id, reading_at) as copies_received

    from readings

),

deduplicated as (

    select * from versions
    where version_rank = 1

),

{% if incremental_run -%}
touched_meters as (

    select
        meter_id,
        min(reading_at) as first_new_at

    from deduplicated
    group by meter_id

),

-- key and interval of the loaded rows from one interval before each meter's first new reading
loaded_near as (

    select /*+ broadcast(touched_meters) */
        loaded.meter_id,
        loaded.reading_at,
        loaded.reading_date,
        loaded.interval_seconds,
        loaded.versions_received

    from {{ this }} as loaded
    inner join touched_meters
        on
            loaded.meter_id = touched_meters.meter_id
            and loaded.reading_at
            >= timestampadd(second, -{{ context_seconds }}, touched_meters.first_new_at)
    where
        loaded.reading_date >= {{ utc_date(timestamp_literal(bounds.scan_from)) }}
        and loaded.reading_at >= {{ timestamp_literal(bounds.scan_from) }}

),

{% if bounds.outage_from is not none -%}
-- a meter back after an outage: its newest loaded reading, which had the nominal interval
back_after_outage as (

    select
        touched_meters.meter_id,
        touched_meters.first_new_at

    from touched_meters
    left anti join loaded_near
        on touched_meters.meter_id = loaded_near.meter_id

),

loaded_before_outage as (

    select /*+ broadcast(back_after_outage) */
        loaded.meter_id,
        loaded.reading_at,
        loaded.reading_date,
        loaded.interval_seconds,
        loaded.versions_received,
        row_number() over (
            partition by loaded.meter_id order by loaded.reading_at desc
        ) as readings_back

    from {{ this }} as loaded
    inner join back_after_outage
        on
            loaded.meter_id = back_after_outage.meter_id
            and loaded.reading_at < back_after_outage.first_new_at
    where
        loaded.reading_date >= {{ utc_date(timestamp_literal(bounds.outage_from)) }}
        and loaded.reading_at >= {{ timestamp_literal(bounds.outage_from) }}

),

loaded as (

    select * from loaded_near
    union all
    select
        meter_id,
        reading_at,
        reading_date,
        interval_seconds,
        versions_received

    from loaded_before_outage
    where readings_back = 1

),

{% else -%}
loaded as (

    select * from loaded_near

),

{% endif -%}
-- the new readings among the loaded ones, in each touched meter's order
sequence as (

    select
        coalesce(deduplicated.meter_id, loaded.meter_id) as meter_id,
        coalesce(deduplicated.reading_at, loaded.reading_at) as reading_at,
        deduplicated.meter_id is not null as is_new,
        loaded.reading_date as loaded_reading_date,
        loaded.interval_seconds as loaded_interval_seconds,
        coalesce(deduplicated.copies_received, 0)
        + coalesce(loaded.versions_received, 0) as versions_received

    from deduplicated
    full outer join loaded
        on
            deduplicated.meter_id = loaded.meter_id
            and deduplicated.reading_at = loaded.reading_at

),

sequence_with_next as (

    select
        *,
        lead(reading_at) over (partition by meter_id order by reading_at) as next_reading_at

    from sequence

),

sequence_with_interval as (

    select
        *,
        {{ capped_interval_seconds('reading_at', 'next_reading_at') }} as interval_seconds

    from sequence_with_next

),

-- loaded rows without a new version whose interval changed
changed_loaded as (

    select * from sequence_with_interval
    where not is_new and interval_seconds != loaded_interval_seconds

),

-- their whole rows, read by partition and key: broadcast, so that Spark prunes the partitions
-- to theirs (none when no loaded row changed)
refreshed as (

    select /*+ broadcast(changed) */
        loaded_row.meter_id,
        loaded_row.reading_at,
        loaded_row.event_id,
        loaded_row.real_power_watts,
        loaded_row.voltage_v,
        loaded_row.power_factor,
        loaded_row.reported_energy_kwh,
        loaded_row.reported_current_a,
        changed.interval_seconds,
        loaded_row.versions_received,
        loaded_row.source_name,
        loaded_row.source_partition,
        loaded_row.source_offset,
        loaded_row.ingested_at,
        loaded_row.batch_id

    from {{ this }} as loaded_row
    inner join changed_loaded as changed
        on
            loaded_row.reading_date = changed.loaded_reading_date
            and loaded_row.meter_id = changed.meter_id
            and loaded_row.reading_at = changed.reading_at
    where loaded_row.reading_date >= {{ utc_date(timestamp_literal(bounds.read_from)) }}

),

with_interval as (

    select
        deduplicated.meter_id,
        deduplicated.reading_at,
        deduplicated.event_id,
        deduplicated.real_power_watts,
        deduplicated.voltage_v,
        deduplicated.power_factor,
        deduplicated.reported_energy_kwh,
        deduplicated.reported_current_a,
        sequence_with_interval.interval_seconds,
        sequence_with_interval.versions_received,
        deduplicated.source_name,
        deduplicated.source_partition,
        deduplicated.source_offset,
        deduplicated.ingested_at,
        deduplicated.batch_id

    from deduplicated
    inner join sequence_with_interval
        on
            deduplicated.meter_id = sequence_with_interval.meter_id
            and deduplicated.reading_at = sequence_with_interval.reading_at

    union all

    select * from refreshed

),

{% else -%}
with_next as (

    select
        *,
        lead(reading_at) over (partition by meter_id order by reading_at) as next_reading_at

    from deduplicated

),

with_interval as (

    select
        *,
        copies_received as versions_received,
        {{ capped_interval_seconds('reading_at', 'next_reading_at') }} as interval_seconds

    from with_next

),

{% endif -%}
with_energy as (

    select
        meter_id,
        reading_at,
        {{ utc_date('reading_at') }} as reading_date,
        event_id,
        real_power_watts,
        voltage_v,
        power_factor,
        reported_energy_kwh,
        reported_current_a,
        interval_seconds,
        -- W x s / 3.6e6 = kWh; a reported interval energy wins over the integral
        coalesce(
            reported_energy_kwh, real_power_watts * interval_seconds / 3600000.0
        ) as energy_kwh,
        case
            when reported_energy_kwh is not null then 'reported' else 'integrated'
        end as energy_method,
        versions_received,
        source_name,
        source_partition,
        source_offset,
        ingested_at,
        batch_id

    from with_interval

),

hashed as (

    select
        *,
        xxhash64(to_json(struct(
            event_id, real_power_watts, voltage_v, power_factor, reported_energy_kwh,
            reported_current_a, interval_seconds, energy_kwh, energy_method,
            versions_received, source_name, source_partition, source_offset, ingested_at,
            batch_id
        ))) as row_hash

    from with_energy

),

final as (

    select
        *,
        current_timestamp() as updated_at

    from hashed

)

select * from final
