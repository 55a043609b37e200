-- Recognitions (认定名单), one row per recognition event.
with

recognitions as (

    select * from {{ ref('stg_registers__recognitions') }}

),

final as (

    select
        recognition_key,
        list_category,
        level,
        uscc,
        name,
        recognised_on,
        cast(extract(year from recognised_on) as integer) as recognised_year,
        recognition_type,
        uscc is not null as has_uscc,
        source_file,
        source_line

    from recognitions

)

select * from final
