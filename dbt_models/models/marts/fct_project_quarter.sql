-- Project x quarter: investment and equipment of the quarter, the same quarter a year
-- earlier, equipment since construction start and year to date.
with

project_months as (

    select * from {{ ref('fct_project_month') }}

),

projects as (

    select project_code, start_month from {{ ref('dim_project') }}

),

quarters as (

    select
        project_code,
        quarter_start,
        cast(extract(year from quarter_start) as integer) as year,
        cast((extract(month from quarter_start) + 2) / 3 as integer) as quarter,
        {{ add_months('quarter_start', 2) }} as quarter_end_month,
        cast(sum(investment_yuan) as decimal(18, 2)) as investment_yuan,
        cast(sum(equipment_yuan) as decimal(18, 2)) as equipment_yuan,
        cast(count(*) as integer) as months_reported,
        max(month) as last_reported_month

    from project_months
    group by project_code, quarter_start

),

since_start as (

    select
        quarters.project_code,
        quarters.quarter_start,
        cast(sum(project_months.equipment_yuan) as decimal(18, 2)) as equipment_since_start_yuan

    from quarters
    inner join projects on quarters.project_code = projects.project_code
    inner join project_months
        on quarters.project_code = project_months.project_code
        and project_months.month >= projects.start_month
        and project_months.month <= quarters.quarter_end_month
    group by quarters.project_code, quarters.quarter_start

),

with_ytd as (

    select
        *,
        cast(sum(equipment_yuan) over year_to_date as decimal(18, 2)) as equipment_ytd_yuan,
        cast(sum(investment_yuan) over year_to_date as decimal(18, 2)) as investment_ytd_yuan

    from quarters

    window year_to_date as (
        partition by project_code, year order by quarter_start
        rows between unbounded preceding and current row
    )

),

final as (

    select
        current_quarter.project_code,
        current_quarter.quarter_start,
        current_quarter.year,
        current_quarter.quarter,
        current_quarter.investment_yuan,
        current_quarter.equipment_yuan,
        current_quarter.months_reported,
        current_quarter.last_reported_month,
        current_quarter.months_reported = 3 as is_complete,
        coalesce(base_quarter.investment_yuan, 0) as base_investment_yuan,
        coalesce(base_quarter.equipment_yuan, 0) as base_equipment_yuan,
        coalesce(base_quarter.months_reported, 0) as base_months_reported,
        case
            when projects.start_month is not null
                and projects.start_month <= current_quarter.quarter_end_month
                then coalesce(since_start.equipment_since_start_yuan, 0)
        end as equipment_since_start_yuan,
        current_quarter.equipment_ytd_yuan,
        current_quarter.investment_ytd_yuan

    from with_ytd as current_quarter
    inner join projects on current_quarter.project_code = projects.project_code
    left join since_start
        on current_quarter.project_code = since_start.project_code
        and current_quarter.quarter_start = since_start.quarter_start
    left join quarters as base_quarter
        on current_quarter.project_code = base_quarter.project_code
        and base_quarter.quarter_start = {{ add_months('current_quarter.quarter_start', -12) }}

)

select * from final
