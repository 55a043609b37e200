-- Grid metering accounts: one row per account, from the latest snapshot that has it. An account
-- the latest snapshot no longer lists has been closed: its readings still belong to its holder,
-- but it is no longer one of the holder's accounts (is_in_latest_snapshot).
with

source as (

    {{ latest_version(source('raw', 'power_accounts'), ['account_no']) }}

),

latest_snapshot as (

    select max(_dataset_period) as latest_period
    from {{ source('raw', 'power_accounts') }}
    where _available_on <= {{ as_of_date() }}

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
        _dataset_period = latest_snapshot.latest_period as is_in_latest_snapshot,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source
    cross join latest_snapshot

)

select * from renamed
