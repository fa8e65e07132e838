{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['meter_id', 'reading_at'],
        on_schema_change='fail',
        meta={'merge_whole_table': true},
    )
}}

{%- set policy = conflict_policy() -%}

with

-- Delta skips the clean files whose value_versions are all 1 (file statistics)
conflicts as (

    select * from {{ ref('int_meter_readings__clean') }}
    where value_versions > 1

),

final as (

    select
        meter_id,
        reading_at,
        cast(value_versions as bigint) as versions,
        array_join(conflicting_values, ' | ') as version_values,
        case
            when conflict_status != 'held' then {{ reading_value_label() }}
        end as winning_values,
        '{{ policy }}' as policy,
        case conflict_status
            when 'held' then 'held: kept out of the curated marts'
            when 'tie' then 'tie: equal sent_at and ingest time, chosen by a hash of the values'
            {%- if policy == 'first' %}
            else 'first: sent (then ingested) first'
            {%- else %}
            else 'latest: sent (then ingested) last'
            {%- endif %}
        end as why

    from conflicts

)

select * from final
