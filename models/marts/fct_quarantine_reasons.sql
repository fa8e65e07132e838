{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['ingested_on', 'reason'],
        on_schema_change='fail',
        meta={'merge_whole_table': true, 'merge_window_column': 'ingested_on'},
    )
}}

{#- an incremental run recounts only the days from the newest one counted: ingest_window.sql -#}
{%- set window_start = ingest_window_start(this) -%}

with

quarantine as (

    select * from {{ ref('stg_meter_events__quarantine') }}
    {%- if window_start %}
    where ingested_at >= {{ window_start }}
    {%- endif %}

),

-- an event counts once per reason it carries, even if a reason is listed twice
reasons as (

    select
        {{ utc_date('ingested_at') }} as ingested_on,
        explode(array_distinct(reasons)) as reason

    from quarantine

),

final as (

    select
        ingested_on,
        reason,
        count(*) as quarantined_events

    from reasons
    group by ingested_on, reason

)

select * from final
