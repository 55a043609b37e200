-- Every industry class code the warehouse knows (GB/T 4754 reference classes plus
-- codes seen in the directory and the project library), with the policy's industry
-- group and difficult industry by the longest matching code prefix.
with

classes as (

    select class_code from {{ ref('ref_gbt4754_classes') }}

),

enterprise_codes as (

    select industry_code from {{ ref('stg_stats__enterprise') }}

),

project_codes as (

    select industry_code from {{ ref('stg_stats__projects') }}

),

group_prefixes as (

    select industry_group, code_prefix from {{ ref('ref_policy_industry_groups') }}

),

difficult_prefixes as (

    select difficult_industry, code_prefix from {{ ref('ref_difficult_industries') }}

),

codes as (

    select class_code as industry_code from classes
    union
    select industry_code from enterprise_codes where industry_code is not null
    union
    select industry_code from project_codes where industry_code is not null

),

longest_group as (

    select
        codes.industry_code,
        group_prefixes.industry_group,
        group_prefixes.code_prefix as industry_group_prefix
    from codes
    inner join group_prefixes
        on codes.industry_code like group_prefixes.code_prefix || '%'
    qualify row_number() over (
        partition by codes.industry_code
        order by length(group_prefixes.code_prefix) desc, group_prefixes.industry_group
    ) = 1

),

longest_difficult as (

    select
        codes.industry_code,
        difficult_prefixes.difficult_industry
    from codes
    inner join difficult_prefixes
        on codes.industry_code like difficult_prefixes.code_prefix || '%'
    qualify row_number() over (
        partition by codes.industry_code
        order by length(difficult_prefixes.code_prefix) desc, difficult_prefixes.difficult_industry
    ) = 1

),

final as (

    select
        codes.industry_code,
        coalesce(longest_group.industry_group, '其他') as industry_group,
        longest_group.industry_group_prefix,
        longest_difficult.difficult_industry,
        longest_difficult.difficult_industry is not null as is_difficult_industry,
        codes.industry_code in (select class_code from classes) as is_known_class

    from codes
    left join longest_group on codes.industry_code = longest_group.industry_code
    left join longest_difficult on codes.industry_code = longest_difficult.industry_code

)

select * from final
