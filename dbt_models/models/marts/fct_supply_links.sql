-- First-time supply links (元) with the supplier's industry group.
with

links as (

    select * from {{ ref('stg_registers__supply_links') }}

),

enterprises as (

    select * from {{ ref('dim_enterprise') }}

),

final as (

    select
        links.uscc,
        links.buyer_name,
        links.first_supply_on,
        {{ quarter_start('links.first_supply_on') }} as first_supply_quarter_start,
        links.contract_yuan,
        enterprises.industry_code,
        coalesce(enterprises.industry_group, '其他') as industry_group,
        enterprises.city_code,
        enterprises.uscc is not null as supplier_in_directory,
        links.source_file,
        links.source_line

    from links
    left join enterprises on links.uscc = enterprises.uscc

)

select * from final
