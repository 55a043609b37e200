-- Enterprise x tax period: VAT return values (元).
with

vat as (

    select * from {{ ref('stg_tax__vat') }}

),

final as (

    select
        uscc,
        tax_period as month,
        {{ quarter_start('tax_period') }} as quarter_start,
        invoiced_sales_yuan,
        vat_payable_yuan,
        filed_on,
        source_file,
        source_line

    from vat

)

select * from final
