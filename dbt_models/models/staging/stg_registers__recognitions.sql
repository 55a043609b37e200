-- Recognition register (认定名单), one row per recognition event.
with

source as (

    {{ latest_version(
        source('raw', 'registers_recognitions'),
        ['list_category', 'level', 'coalesce(uscc, name)', 'recognition_type', 'recognised_on'], dated_by='recognised_on',
        several_rows_per_key=true) }}

),

renamed as (

    select
        list_category,
        level,
        uscc,
        name,
        cast(recognised_on as date) as recognised_on,
        recognition_type,
        -- the name too: several scenarios of one enterprise recognised together are several rows
        concat_ws('|', list_category, level, coalesce(uscc, ''), name, recognition_type, recognised_on)
            as recognition_key,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
