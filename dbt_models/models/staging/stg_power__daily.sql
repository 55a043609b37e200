-- Daily consumption per (account, day); the latest delivery of a day wins (meter re-reads).
-- Materialised as a table: it is the largest feed and is read by several models and tests.
{{ config(materialized='table') }}

with

source as (

    {{ latest_version(source('raw', 'power_daily'), ['account_no', 'reading_date']) }}

),

renamed as (

    select
        account_no,
        cast(reading_date as date) as reading_date,
        {{ to_decimal('kwh', 3) }} as kwh,
        data_flag,
        {{ yyyymmdd_to_date('_dataset_period') }} as delivery_date,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
