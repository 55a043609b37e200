-- VAT returns, one row per (tax period, taxpayer), money in 元.
with

source as (

    {{ latest_version(source('raw', 'tax_vat'), ['tax_period', 'uscc']) }}

),

renamed as (

    select
        uscc,
        {{ yyyymm_to_date('tax_period') }} as tax_period,
        {{ to_yuan('invoiced_sales_yuan') }} as invoiced_sales_yuan,
        {{ to_yuan('vat_payable_yuan') }} as vat_payable_yuan,
        cast(filed_on as date) as filed_on,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
