-- 桂惠贷 loan register, one row per (borrower, lender, disbursement date), money in 元.
with

source as (

    {{ latest_version(source('raw', 'registers_loans'), ['uscc', 'lender', 'disbursed_on'], dated_by='disbursed_on') }}

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
