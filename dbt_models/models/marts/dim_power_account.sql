-- One row per metering account: from the account snapshots, plus accounts that only
-- appear in the daily readings. Unmatched accounts (no USCC) stay visible here.
with

accounts as (

    select * from {{ ref('stg_power__accounts') }}

),

readings as (

    select
        account_no,
        min(reading_date) as first_reading_date,
        max(reading_date) as last_reading_date,
        cast(count(*) as integer) as readings
    from {{ ref('stg_power__daily') }}
    group by account_no

),

enterprises as (

    select uscc from {{ ref('dim_enterprise') }}

),

regions as (

    select * from {{ ref('dim_region') }}

),

account_numbers as (

    select account_no from accounts
    union
    select account_no from readings

),

final as (

    select
        account_numbers.account_no,
        accounts.account_name,
        accounts.uscc,
        accounts.county_code,
        coalesce(regions.city_code, substr(accounts.county_code, 1, 4) || '00') as city_code,
        accounts.independent_metering,
        accounts.is_independently_metered,
        accounts.voltage_level,
        accounts.opened_on,
        accounts.snapshot_date,
        coalesce(accounts.is_in_latest_snapshot, false) as is_in_latest_snapshot,
        accounts.account_no is not null as has_account_record,
        accounts.uscc is not null as is_matched,
        enterprises.uscc is not null as matched_to_directory,
        readings.first_reading_date,
        readings.last_reading_date,
        coalesce(readings.readings, 0) as readings,
        accounts.source_file,
        accounts.source_line

    from account_numbers
    left join accounts on account_numbers.account_no = accounts.account_no
    left join readings on account_numbers.account_no = readings.account_no
    left join regions on accounts.county_code = regions.county_code
    left join enterprises on accounts.uscc = enterprises.uscc

)

select * from final
