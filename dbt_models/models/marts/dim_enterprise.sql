-- One row per enterprise seen in the directory (latest snapshot <= as_of).
with

enterprises as (

    select * from {{ ref('int_enterprise__latest_snapshot') }}

),

industry_codes as (

    select * from {{ ref('int_industry_codes') }}

),

regions as (

    select * from {{ ref('dim_region') }}

),

cities as (

    select distinct city_code, city_name from regions

),

two_high as (

    select distinct uscc from {{ ref('stg_registers__two_high') }}
    where uscc is not null

),

final as (

    select
        enterprises.uscc,
        enterprises.enterprise_name,
        enterprises.county_code,
        regions.county_name,
        coalesce(regions.city_code, substr(enterprises.county_code, 1, 4) || '00') as city_code,
        cities.city_name,
        enterprises.industry_code,
        coalesce(industry_codes.industry_group, '其他') as industry_group,
        industry_codes.difficult_industry,
        coalesce(industry_codes.is_difficult_industry, false) as is_difficult_industry,
        enterprises.scale_flag,
        enterprises.scale_flag = '规上' and enterprises.above_size_exit is null as is_above_size,
        enterprises.above_size_since,
        enterprises.production_start,
        enterprises.above_size_exit,
        enterprises.first_snapshot_month,
        enterprises.last_snapshot_month,
        enterprises.is_in_latest_directory,
        two_high.uscc is not null as is_two_high,
        enterprises.source_file,
        enterprises.source_line

    from enterprises
    left join regions on enterprises.county_code = regions.county_code
    left join cities
        on coalesce(regions.city_code, substr(enterprises.county_code, 1, 4) || '00') = cities.city_code
    left join industry_codes on enterprises.industry_code = industry_codes.industry_code
    left join two_high on enterprises.uscc = two_high.uscc

)

select * from final
