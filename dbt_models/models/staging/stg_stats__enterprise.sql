-- Enterprise directory, one row per (snapshot month, enterprise): every monthly
-- snapshot delivered by the as-of date, re-deliveries resolved.
with

source as (

    {{ latest_version(source('raw', 'stats_enterprise'), ['_dataset_period', 'uscc']) }}

),

renamed as (

    select
        {{ yyyymm_to_date('_dataset_period') }} as snapshot_month,
        uscc,
        enterprise_name,
        county_code,
        industry_code,
        scale_flag,
        {{ yyyymm_to_date('above_size_since') }} as above_size_since,
        {{ yyyymm_to_date('production_start') }} as production_start,
        {{ yyyymm_to_date('above_size_exit') }} as above_size_exit,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

select * from renamed
