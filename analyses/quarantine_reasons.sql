-- Data quality: refused events per reason and day (`dbt compile -s quarantine_reasons`, then
-- run the compiled SQL). A reading can carry several reasons; each is counted.
with

quarantine as (

    select * from {{ ref('stg_meter_events__quarantine') }}

),

reasons as (

    select
        to_date(quarantine.ingested_at) as ingested_on,
        reason

    from quarantine
    lateral view explode(quarantine.reasons) exploded as reason

),

final as (

    select
        ingested_on,
        reason,
        count(*) as events

    from reasons
    group by ingested_on, reason

)

select * from final
order by ingested_on, events desc
