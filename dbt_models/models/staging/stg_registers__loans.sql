-- 桂惠贷 loan register, one row per loan, money in 元. Loans of one (borrower, lender, disbursement
-- date) are versions of each other across deliveries; one delivery may list several (a bank may lend
-- twice on one day): all of the latest delivery's are in force.
with

source as (

    {{ latest_version(source('raw', 'registers_loans'), ['uscc', 'lender', 'disbursed_on'], dated_by='disbursed_on',
                      several_rows_per_key=true) }}

),

renamed as (

    select
        uscc,
        lender,
        product,
        cast(disbursed_on as date) as disbursed_on,
        cast(matures_on as date) as matures_on,
        {{ to_yuan('principal_10k_yuan', 10000) }} as principal_yuan,
        {{ to_decimal('annual_rate_pct', 4, 9) }} as annual_rate_pct,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
