-- GB/T 4754-2017 classes with the policy industry group and difficult-industry flag.
with

classes as (

    select * from {{ ref('ref_gbt4754_classes') }}

),

industry_codes as (

    select * from {{ ref('int_industry_codes') }}

),

final as (

    select
        classes.class_code,
        classes.class_name,
        classes.division_code,
        classes.division_name,
        industry_codes.industry_group,
        industry_codes.difficult_industry,
        industry_codes.is_difficult_industry

    from classes
    inner join industry_codes on classes.class_code = industry_codes.industry_code

)

select * from final
