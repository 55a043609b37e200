-- Event subsidy applications (申报), one row per application, money in 元.
with

source as (

    {{ latest_version(source('raw', 'registers_applications'), ['application_id'], dated_by='held_on') }}

),

renamed as (

    select
        application_id,
        uscc,
        activity_type,
        activity_name,
        cast(held_on as date) as held_on,
        {{ to_yuan('claimed_cost_yuan') }} as claimed_cost_yuan,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
