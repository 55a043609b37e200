-- One row per project with its latest attributes (latest library month <= as_of).
with

project_months as (

    select * from {{ ref('stg_stats__projects') }}

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

latest as (

    select
        *,
        min(report_month) over (partition by project_code) as first_report_month,
        max(report_month) over (partition by project_code) as last_report_month,
        cast(count(*) over (partition by project_code) as integer) as months_in_library
    from project_months
    qualify row_number() over (partition by project_code order by report_month desc) = 1

),

final as (

    select
        latest.project_code,
        latest.project_name,
        latest.uscc,
        latest.county_code,
        regions.county_name,
        coalesce(regions.city_code, substr(latest.county_code, 1, 4) || '00') as city_code,
        cities.city_name,
        latest.industry_code,
        coalesce(industry_codes.industry_group, '其他') as industry_group,
        coalesce(industry_codes.is_difficult_industry, false) as is_difficult_industry,
        latest.construction_type,
        latest.planned_investment_yuan,
        latest.start_month,
        latest.library_entry_month,
        latest.completion_month,
        latest.tags,
        latest.first_report_month,
        latest.last_report_month,
        latest.months_in_library,
        latest.source_file,
        latest.source_line

    from latest
    left join regions on latest.county_code = regions.county_code
    left join cities
        on coalesce(regions.city_code, substr(latest.county_code, 1, 4) || '00') = cities.city_code
    left join industry_codes on latest.industry_code = industry_codes.industry_code

)

select * from final
