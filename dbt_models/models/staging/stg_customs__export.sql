-- Export declaration lines, one row per (declaration, line).
with

source as (

    -- 项号 is a number (ingestion checked it): a `_v2` that writes line 1 as `01` corrects line 1
    {{ latest_version(source('raw', 'customs_export'), ['declaration_no', "cast(replace(line_no, ',', '') as integer)"]) }}

),

renamed as (

    select
        declaration_no,
        cast(replace(line_no, ',', '') as integer) as line_no,
        cast(export_date as date) as export_date,
        cast({{ dbt.date_trunc('month', 'cast(export_date as date)') }} as date) as export_month,
        customs_code,
        uscc,
        hs_code,
        trade_mode,
        destination,
        {{ to_decimal('value_usd', 2) }} as value_usd,
        {{ to_yuan('value_cny_yuan') }} as value_cny_yuan,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
