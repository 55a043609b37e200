-- Which delivered version of each hand-kept register held which row, by the as-of date.
--
-- Staff re-deliver a register as a whole copy when they get to it (registers_loans.xlsx, then
-- registers_loans_v2.xlsx, …), and a row is keyed in some days after its own date. The latest copy
-- then lacks some rows of its last weeks; comparing each earlier copy with what later copies added
-- shows how many (the forecast's estimate of the rows dated by the cut-off still to be keyed in:
-- dagster_project/lib/forecast/new_events.py, `completeness`). The row key is the staging model's.
with

loans as (

    select 'loans' as register, _version as source_version, _file as source_file,
           concat_ws('|', uscc, lender, disbursed_on) as row_key, cast(disbursed_on as date) as dated_on
    from {{ source('raw', 'registers_loans') }}
    where _available_on <= {{ as_of_date() }}

),

applications as (

    select 'applications' as register, _version as source_version, _file as source_file,
           application_id as row_key, cast(held_on as date) as dated_on
    from {{ source('raw', 'registers_applications') }}
    where _available_on <= {{ as_of_date() }}

),

supply_links as (

    select 'supply_links' as register, _version as source_version, _file as source_file,
           concat_ws('|', uscc, buyer_name) as row_key, cast(first_supply_on as date) as dated_on
    from {{ source('raw', 'registers_supply_links') }}
    where _available_on <= {{ as_of_date() }}

),

recognitions as (

    select 'recognitions' as register, _version as source_version, _file as source_file,
           concat_ws('|', list_category, level, coalesce(uscc, name), recognition_type, recognised_on) as row_key,
           cast(recognised_on as date) as dated_on
    from {{ source('raw', 'registers_recognitions') }}
    where _available_on <= {{ as_of_date() }}

),

unioned as (

    select * from loans
    union all
    select * from applications
    union all
    select * from supply_links
    union all
    select * from recognitions

),

final as (

    -- a row dated after the as-of date did not exist then (the staging models' cut)
    select distinct register, source_version, row_key, dated_on
    from unioned
    where dated_on <= {{ as_of_date() }}

)

select * from final
