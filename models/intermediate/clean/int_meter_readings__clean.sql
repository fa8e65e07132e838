{{
    config(
        unique_key=['meter_id', 'reading_at'],
        partition_by=['reading_date'],
        meta={'merge_window_column': 'reading_date'},
        post_hook="{{ set_clean_watermark(this) }}",
    )
}}

{#- One row per (meter_id, reading_at); what an incremental run reads: models/incremental.md -#}

{%- set intervals = interval_rules() -%}
{%- set max_gap = intervals.max_gap_seconds -%}
{%- set nominal = intervals.nominal_interval_seconds -%}
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
{%- set policy = conflict_policy() -%}
{%- set order_word = 'asc' if policy == 'first' else 'desc' -%}
{#- a version without sent_at counts as sent before every version that carries one -#}
{%- set nulls_word = 'nulls first' if policy == 'first' else 'nulls last' -%}

with

readings as (

    select
        meter_id,
        reading_at,
        event_id,
        real_power_watts,
        voltage_v,
        power_factor,
        reported_energy_kwh,
        reported_current_a,
        source_name,
        source_partition,
        source_offset,
        ingested_at,
        batch_id,
        sent_at,
        false as is_loaded,
        cast(null as array<string>) as loaded_values

    from {{ ref('stg_meter_events__readings') }}
    {%- if incremental_run %}
    where
        ingested_at > {{ timestamp_literal(bounds.ingested_after) }}
        and ingested_at <= {{ timestamp_literal(bounds.ingested_until) }}
        and reading_at >= {{ timestamp_literal(bounds.window_from) }}
    {%- endif %}

),

{% if incremental_run -%}
-- the loaded version of each key that has a new one: a new version is decided against it
new_keys as (

    select distinct
        meter_id,
        reading_at,
        {{ utc_date('reading_at') }} as reading_date

    from readings

),

loaded_versions as (

    select /*+ broadcast(new_keys) */
        loaded.meter_id,
        loaded.reading_at,
        loaded.event_id,
        loaded.real_power_watts,
        loaded.voltage_v,
        loaded.power_factor,
        loaded.reported_energy_kwh,
        loaded.reported_current_a,
        loaded.source_name,
        loaded.source_partition,
        loaded.source_offset,
        loaded.ingested_at,
        loaded.batch_id,
        loaded.sent_at,
        true as is_loaded,
        loaded.conflicting_values as loaded_values

    from {{ this }} as loaded
    inner join new_keys
        on
            loaded.reading_date = new_keys.reading_date
            and loaded.meter_id = new_keys.meter_id
            and loaded.reading_at = new_keys.reading_at
    where loaded.reading_date >= {{ utc_date(timestamp_literal(bounds.read_from)) }}

),

candidates as (

    select * from readings
    union all
    select * from loaded_versions

),

{% else -%}
candidates as (

    select * from readings

),

{% endif -%}
-- what a version says: equal labels are exact duplicates, different ones a conflict
labelled as (

    select
        *,
        {{ reading_value_label() }} as value_label,
        coalesce(loaded_values, array({{ reading_value_label() }})) as version_values

    from candidates

),

-- var conflict_policy: 'latest' (and 'quarantine', which holds the key out of the marts) ranks
-- the version sent last first, 'first' the earliest (sent_at, one without it counting as sent
-- before any with it; then ingest time, then micro-batch); never by position in a file.
-- Versions the order cannot separate are ranked by a hash of their values (deterministic) and
-- reported as a tie.
versions as (

    select
        *,
        row_number() over (
            partition by meter_id, reading_at
            order by
                sent_at {{ order_word }} {{ nulls_word }},
                ingested_at {{ order_word }},
                batch_id {{ order_word }},
                xxhash64(value_label) {{ order_word }},
                is_loaded desc
        ) as version_rank,
        dense_rank() over (
            partition by meter_id, reading_at
            order by
                sent_at {{ order_word }} {{ nulls_word }}, ingested_at {{ order_word }},
                batch_id {{ order_word }}
        ) as order_rank,
        count(case when not is_loaded then 1 end)
            over (partition by meter_id, reading_at)
            as copies_received,
        array_sort(array_distinct(flatten(
            collect_list(version_values) over (partition by meter_id, reading_at)
        ))) as values_seen

    from labelled

),

ranked as (

    select
        *,
        size(
            collect_set(case when order_rank = 1 then value_label end)
                over (partition by meter_id, reading_at)
        ) as tied_values,
        size(values_seen) as value_versions

    from versions

),

deduplicated as (

    select
        *,
        case
            when value_versions <= 1 then cast(null as string)
            {%- if policy == 'quarantine' %}
            else 'held'
            {%- else %}
            when tied_values > 1 then 'tie'
            else 'decided'
            {%- endif %}
        end as conflict_status

    from ranked
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
{% else -%}
-- a full run: nothing is loaded yet
loaded as (

    select
        cast(null as string) as meter_id,
        cast(null as timestamp) as reading_at,
        cast(null as date) as reading_date,
        cast(null as double) as interval_seconds,
        cast(null as bigint) as versions_received
    where false

),

{% endif -%}
-- the new readings among the loaded ones, in each meter's order
sequence as (

    select
        coalesce(deduplicated.meter_id, loaded.meter_id) as meter_id,
        coalesce(deduplicated.reading_at, loaded.reading_at) as reading_at,
        deduplicated.copies_received is not null as is_new,
        deduplicated.event_id,
        deduplicated.real_power_watts,
        deduplicated.voltage_v,
        deduplicated.power_factor,
        deduplicated.reported_energy_kwh,
        deduplicated.reported_current_a,
        deduplicated.source_name,
        deduplicated.source_partition,
        deduplicated.source_offset,
        deduplicated.ingested_at,
        deduplicated.batch_id,
        deduplicated.sent_at,
        deduplicated.value_versions,
        case when deduplicated.value_versions > 1 then deduplicated.values_seen end
            as conflicting_values,
        deduplicated.conflict_status,
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

{% if incremental_run -%}
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
        loaded_row.batch_id,
        loaded_row.sent_at,
        loaded_row.value_versions,
        loaded_row.conflicting_values,
        loaded_row.conflict_status

    from {{ this }} as loaded_row
    inner join changed_loaded as changed
        on
            loaded_row.reading_date = changed.loaded_reading_date
            and loaded_row.meter_id = changed.meter_id
            and loaded_row.reading_at = changed.reading_at
    where loaded_row.reading_date >= {{ utc_date(timestamp_literal(bounds.read_from)) }}

),

{% endif -%}
with_interval as (

    select
        meter_id,
        reading_at,
        event_id,
        real_power_watts,
        voltage_v,
        power_factor,
        reported_energy_kwh,
        reported_current_a,
        interval_seconds,
        versions_received,
        source_name,
        source_partition,
        source_offset,
        ingested_at,
        batch_id,
        sent_at,
        value_versions,
        conflicting_values,
        conflict_status

    from sequence_with_interval
    where is_new
    {%- if incremental_run %}

    union all

    select * from refreshed
    {%- endif %}

),

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
        batch_id,
        sent_at,
        value_versions,
        conflicting_values,
        conflict_status

    from with_interval

),

final as (

    select
        *,
        current_timestamp() as updated_at

    from with_energy

)

select * from final
