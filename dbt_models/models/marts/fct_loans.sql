-- 桂惠贷 loans (元), one row per loan.
with

loans as (

    select * from {{ ref('stg_registers__loans') }}

),

final as (

    select
        uscc,
        lender,
        product,
        disbursed_on,
        {{ quarter_start('disbursed_on') }} as disbursed_quarter_start,
        matures_on,
        cast({{ dbt.datediff('disbursed_on', 'matures_on', 'day') }} as integer) as loan_days,
        principal_yuan,
        annual_rate_pct,
        source_file,
        source_line

    from loans

)

select * from final
