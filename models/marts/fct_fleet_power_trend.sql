{#-
    Global Watts Trend: the fleet's average real power per time bucket (var trend_bucket_minutes,
    default 15), buckets aligned to UTC epoch multiples of the width.
-#}

{%- set bucket_seconds = (var('trend_bucket_minutes') | int) * 60 -%}

with

readings as (

    select * from {{ ref('fct_meter_readings') }}

),

bucketed as (

    select
        timestamp_seconds(
            floor(unix_seconds(`timestamp`) / {{ bucket_seconds }}) * {{ bucket_seconds }}
        ) as bucket_start,
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
