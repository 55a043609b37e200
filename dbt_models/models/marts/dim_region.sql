-- Guangxi counties with their prefecture city (GB/T 2260 reference seed).
with

counties as (

    select * from {{ ref('ref_gbt2260_guangxi_counties') }}

),

final as (

    select
        county_code,
        county_name,
        city_code,
        city_name
    from counties

)

select * from final
