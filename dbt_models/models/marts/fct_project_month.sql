-- Project x library month: investment and equipment completed in the month (元).
with

projects as (

    select * from {{ ref('stg_stats__projects') }}

),

final as (

    select
        project_code,
        report_month as month,
        {{ quarter_start('report_month') }} as quarter_start,
        uscc,
        county_code,
        industry_code,
        investment_yuan,
        equipment_yuan,
        source_file,
        source_line

    from projects

)

select * from final
