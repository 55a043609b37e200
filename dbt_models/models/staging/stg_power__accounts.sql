-- Grid metering accounts: one row per account, from the latest snapshot that has it.
with

source as (

    {{ latest_version(source('raw', 'power_accounts'), ['account_no']) }}

),

renamed as (

    select
        account_no,
        account_name,
        uscc,
        county_code,
        independent_metering,
        case independent_metering when '是' then true when '否' then false end as is_independently_metered,
        voltage_level,
        cast(opened_on as date) as opened_on,
        {{ yyyymmdd_to_date('_dataset_period') }} as snapshot_date,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
