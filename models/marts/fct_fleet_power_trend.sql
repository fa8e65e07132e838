{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['bucket_start'],
        on_schema_change='fail',
        post_hook="{{ set_watermark(this, ref('int_meter_readings__clean')) }}",
    )
}}

{#-
    Global Watts Trend: the fleet's average real power per time bucket (var trend_bucket_minutes,
    default 15), buckets aligned to UTC epoch multiples of the width.

    What an incremental run recomputes: models/incremental.md.
-#}

{%- set bucket_seconds = (var('trend_bucket_minutes') | int) * 60 -%}

{%- set watermark = get_watermark(this) if is_incremental() else none -%}
{%- set first_bucket = none -%}
{%- if watermark is not none -%}
{%- set first_bucket = bucket_start(timestamp_literal(
    clean_changed_from(ref('int_meter_readings__clean'), watermark)), bucket_seconds) -%}
{%- endif -%}
{%- set incremental_run = is_incremental() and watermark is not none -%}

with

readings as (

    select * from {{ ref('fct_meter_readings') }}
    {%- if incremental_run %}
    where
        local_date >= {{ reporting_date_floor(first_bucket) }}
        and `timestamp` >= {{ first_bucket }}
    {%- endif %}

),

bucketed as (

    select
        {{ bucket_start('`timestamp`', bucket_seconds) }} as bucket_start,
        real_power_watts

    from readings

),

final as (

    select
        bucket_start,
        avg(real_power_watts) as avg_watts,
        count(*) as reading_count

    from bucketed
    group by bucket_start

)

select * from final
