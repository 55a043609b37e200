-- Event subsidy applications (申报), one row per application, money in 元.
with

source as (

    {{ latest_version(source('raw', 'registers_applications'), ['application_id']) }}

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

-- A register is a standing list kept by hand: a run as of a day sees only the rows dated on or
-- before it (what the register could hold that day), so that a replay of a past day is honest.
select * from renamed
where held_on <= {{ as_of_date() }}
