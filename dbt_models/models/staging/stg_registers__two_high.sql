-- 两高 list, one row per enterprise.
with

source as (

    {{ latest_version(source('raw', 'registers_two_high'), ['uscc']) }}

),

renamed as (

    select
        uscc,
        process_or_product,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
