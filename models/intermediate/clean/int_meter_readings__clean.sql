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

    Incremental runs read only the events ingested since the newest ingested_at already here,
    within the lookback window (event time) before the newest reading. For each meter they touch,
    the run recomputes its readings from one interval of context before the earliest new event:
    only the reading just before a new event can change (its interval now ends earlier), and
    only when it lies within max(max_gap, nominal interval), because longer intervals are capped
    anyway. Rows whose content did not change are dropped before the merge (row_hash), so a run
    with no new data merges nothing.

    Partitioned by reading_date (UTC): the comparison with the rows already here and the merge
    (bounded, see macros/incremental.sql) read only the partitions from the run's first day on.
-#}

{%- set max_gap = var('max_gap_seconds') | int -%}
{%- set nominal = var('nominal_interval_seconds') | int -%}
{%- set context_seconds = [max_gap, nominal] | max -%}
{%- set lookback_hours = var('lookback_hours') | int -%}

{%- set bounds = none -%}
{%- if is_incremental() -%}
{%- set bounds = clean_incremental_bounds(
    this, ref('stg_meter_events__readings'), lookback_hours, context_seconds) -%}
{#- every row this run emits is from scan_from on: the merge reads only those partitions -#}
{%- do set_merge_window(utc_date(timestamp_literal(bounds.scan_from)) if bounds else none) -%}
{%- endif -%}
{%- set ingested_after = bounds.ingested_after if bounds else none -%}
{%- set window_from = bounds.window_from if bounds else none -%}
{%- set scan_from = bounds.scan_from if bounds else none -%}

with

readings as (

    select * from {{ ref('stg_meter_events__readings') }}
    {%- if is_incremental() and scan_from is not none %}
    where reading_at >= {{ timestamp_literal(scan_from) }}
    {%- endif %}

),

{% if is_incremental() and ingested_after is not none -%}
-- each meter's first new event, found in the same scan (one read of the validated table)
with_first_new as (

    select
        *,
        min(
            case
                when
                    ingested_at > {{ timestamp_literal(ingested_after) }}
                    and reading_at >= {{ timestamp_literal(window_from) }}
                    then reading_at
            end
        ) over (partition by meter_id) as first_new_at

    from readings

),

in_scope as (

    select * from with_first_new
    where reading_at >= timestampadd(second, -{{ context_seconds }}, first_new_at)

),

existing as (

    select
        meter_id,
        reading_at,
        row_hash

    from {{ this }}
    where
        reading_date >= {{ utc_date(timestamp_literal(scan_from)) }}
        and reading_at >= {{ timestamp_literal(scan_from) }}

),

{% else -%}
in_scope as (

    select * from readings

),

{% endif -%}
versions as (

    select
        *,
        row_number() over (
            partition by meter_id, reading_at
            order by ingested_at desc, batch_id desc, source_offset desc
        ) as version_rank,
        count(*) over (partition by meter_id, reading_at) as versions_received

    from in_scope

),

deduplicated as (

    select * from versions
    where version_rank = 1

),

with_next as (

    select
        *,
        lead(reading_at) over (partition by meter_id order by reading_at) as next_reading_at

    from deduplicated

),

with_interval as (

    select
        *,
        least(
            coalesce(
                (unix_micros(next_reading_at) - unix_micros(reading_at)) / 1e6,
                {{ nominal }}
            ),
            {{ max_gap }}
        ) as interval_seconds

    from with_next

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

{% if is_incremental() and ingested_after is not none -%}
changed as (

    select hashed.*

    from hashed
    left join existing
        on
            hashed.meter_id = existing.meter_id
            and hashed.reading_at = existing.reading_at
    where existing.row_hash is null or existing.row_hash != hashed.row_hash

),

{% else -%}
changed as (

    select * from hashed

),

{% endif -%}
final as (

    select
        *,
        current_timestamp() as updated_at

    from changed

)

select * from final
