-- One row per enterprise ever seen in the directory: its latest snapshot row
-- (<= as_of), with the first and last snapshot months it appeared in.
with

snapshots as (

    select * from {{ ref('stg_stats__enterprise') }}

),

latest_directory as (

    select max(snapshot_month) as latest_directory_month from snapshots

),

latest_per_enterprise as (

    select
        *,
        min(snapshot_month) over (partition by uscc) as first_snapshot_month,
        max(snapshot_month) over (partition by uscc) as last_snapshot_month,
        cast(count(*) over (partition by uscc) as integer) as snapshots_seen
    from snapshots
    qualify row_number() over (partition by uscc order by snapshot_month desc) = 1

),

final as (

    select
        latest_per_enterprise.uscc,
        latest_per_enterprise.enterprise_name,
        latest_per_enterprise.county_code,
        latest_per_enterprise.industry_code,
        latest_per_enterprise.scale_flag,
        latest_per_enterprise.above_size_since,
        latest_per_enterprise.production_start,
        latest_per_enterprise.above_size_exit,
        latest_per_enterprise.first_snapshot_month,
        latest_per_enterprise.last_snapshot_month,
        latest_per_enterprise.snapshots_seen,
        latest_per_enterprise.last_snapshot_month = latest_directory.latest_directory_month
            as is_in_latest_directory,
        latest_per_enterprise.source_file,
        latest_per_enterprise.source_line

    from latest_per_enterprise
    cross join latest_directory

)

select * from final
