-- Investment project library, one row per (library month, project), money in 元.
with

source as (

    {{ latest_version(source('raw', 'stats_projects'), ['_dataset_period', 'project_code']) }}

),

renamed as (

    select
        project_code,
        {{ yyyymm_to_date('_dataset_period') }} as report_month,
        project_name,
        uscc,
        county_code,
        industry_code,
        construction_type,
        {{ to_yuan('planned_investment_10k_yuan', 10000) }} as planned_investment_yuan,
        {{ yyyymm_to_date('start_month') }} as start_month,
        {{ yyyymm_to_date('library_entry_month') }} as library_entry_month,
        {{ yyyymm_to_date('completion_month') }} as completion_month,
        {{ to_yuan('investment_month_10k_yuan', 10000) }} as investment_yuan,
        {{ to_yuan('equipment_month_10k_yuan', 10000) }} as equipment_yuan,
        tags,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
