with

source as (

    select * from {{ source('reference', 'meter_registry') }}

),

renamed as (

    select
        trim(meter_id) as meter_id,
        nullif(trim(profile), '') as profile,
        lower(trim(has_solar)) in ('true', '1', 'yes') as has_solar,
        try_cast(nullif(trim(nominal_voltage), '') as double) as nominal_voltage_v,
        lower(trim(reports_energy)) in ('true', '1', 'yes') as reports_energy

    from source
    where nullif(trim(meter_id), '') is not null

)

select * from renamed
