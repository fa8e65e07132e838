{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='ingested_on',
        on_schema_change='fail',
        meta={'merge_whole_table': true, 'merge_window_column': 'ingested_on'},
    )
}}

{#- an incremental run recounts only the days from the newest one counted: ingest_window.sql -#}
{%- set window_start = ingest_window_start(this) -%}

with

readings as (

    select * from {{ ref('stg_meter_events__readings') }}
    {%- if window_start %}
    where ingested_at >= {{ window_start }}
    {%- endif %}

),

quarantine as (

    select * from {{ ref('stg_meter_events__quarantine') }}
    {%- if window_start %}
    where ingested_at >= {{ window_start }}
    {%- endif %}

),

validated_daily as (

    select
        {{ utc_date('ingested_at') }} as ingested_on,
        count(*) as validated_events

    from readings
    group by 1

),

quarantined_daily as (

    select
        {{ utc_date('ingested_at') }} as ingested_on,
        count(*) as quarantined_events

    from quarantine
    group by 1

),

final as (

    select
        coalesce(validated_daily.ingested_on, quarantined_daily.ingested_on) as ingested_on,
        coalesce(validated_daily.validated_events, 0) as validated_events,
        coalesce(quarantined_daily.quarantined_events, 0) as quarantined_events

    from validated_daily
    full outer join quarantined_daily
        on validated_daily.ingested_on = quarantined_daily.ingested_on

)

select * from final
