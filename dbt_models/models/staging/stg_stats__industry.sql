-- Monthly industrial report, one row per (report month, enterprise), money in 元.
-- The cumulative (累计) columns are authoritative: the month value is derived as
-- ytd(m) - ytd(previous reported month of the same year) (0 when there is none),
-- and the gap to the reported 本月 value is kept.
with

source as (

    {{ latest_version(source('raw', 'stats_industry'), ['report_month', 'uscc']) }}

),

renamed as (

    select
        uscc,
        {{ yyyymm_to_date('report_month') }} as report_month,
        cast(substr(report_month, 1, 4) as integer) as report_year,
        {{ to_yuan('output_ytd_k_yuan', 1000) }} as output_ytd_yuan,
        {{ to_yuan('output_month_k_yuan', 1000) }} as output_month_reported_yuan,
        {{ to_yuan('revenue_ytd_k_yuan', 1000) }} as revenue_ytd_yuan,
        {{ to_yuan('revenue_month_k_yuan', 1000) }} as revenue_month_reported_yuan,
        {{ to_yuan('profit_ytd_k_yuan', 1000) }} as profit_ytd_yuan,
        cast(cast(employees_end as decimal(18, 0)) as integer) as employees_end,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

),

with_previous as (

    select
        *,
        lag(report_month) over same_year as previous_reported_month,
        last_value(output_ytd_yuan ignore nulls) over earlier_same_year as previous_output_ytd_yuan,
        last_value(revenue_ytd_yuan ignore nulls) over earlier_same_year as previous_revenue_ytd_yuan

    from renamed

    window
        same_year as (partition by uscc, report_year order by report_month),
        earlier_same_year as (
            partition by uscc, report_year order by report_month
            rows between unbounded preceding and 1 preceding
        )

),

derived as (

    select
        uscc,
        report_month,
        report_year,
        previous_reported_month,
        previous_output_ytd_yuan,
        previous_revenue_ytd_yuan,

        output_ytd_yuan,
        cast(output_ytd_yuan - coalesce(previous_output_ytd_yuan, 0) as decimal(18, 2)) as output_month_yuan,
        output_month_reported_yuan,
        cast(
            (output_ytd_yuan - coalesce(previous_output_ytd_yuan, 0)) - output_month_reported_yuan
            as decimal(18, 2)
        ) as output_revision_gap_yuan,

        revenue_ytd_yuan,
        cast(revenue_ytd_yuan - coalesce(previous_revenue_ytd_yuan, 0) as decimal(18, 2)) as revenue_month_yuan,
        revenue_month_reported_yuan,
        cast(
            (revenue_ytd_yuan - coalesce(previous_revenue_ytd_yuan, 0)) - revenue_month_reported_yuan
            as decimal(18, 2)
        ) as revenue_revision_gap_yuan,

        profit_ytd_yuan,
        employees_end,
        source_version,
        source_file,
        source_line

    from with_previous

)

select * from derived
