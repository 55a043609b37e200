-- Enterprise x reported month: cumulative values, derived month values, the gap to
-- the reported 本月 values, the same month a year earlier, trailing-12-month revenue.
with

industry as (

    select * from {{ ref('stg_stats__industry') }}

),

with_windows as (

    select
        *,
        cast(sum(revenue_month_yuan) over trailing_12 as decimal(18, 2)) as revenue_ttm_yuan,
        cast(count(*) over trailing_12 as integer) as ttm_months_reported

    from industry

    window trailing_12 as (
        partition by uscc order by report_month
        range between interval 11 month preceding and current row
    )

),

final as (

    select
        current_month.uscc,
        current_month.report_month as month,
        current_month.report_year as year,
        {{ quarter_start('current_month.report_month') }} as quarter_start,
        current_month.previous_reported_month,

        current_month.output_ytd_yuan,
        current_month.output_month_yuan,
        current_month.output_month_reported_yuan,
        -- A difference of cumulative values is one month's output only when the month before was
        -- reported in the same year (or in January); after a gap, or in the first month of a
        -- history that begins mid-year, it also holds the months not reported, and the month's
        -- own output is the delivered 本月 value.
        case
            when extract(month from current_month.report_month) = 1
                or current_month.previous_reported_month = {{ add_months('current_month.report_month', -1) }}
                then current_month.output_month_yuan
            else current_month.output_month_reported_yuan
        end as output_single_month_yuan,
        current_month.output_revision_gap_yuan,

        current_month.revenue_ytd_yuan,
        current_month.revenue_month_yuan,
        current_month.revenue_month_reported_yuan,
        current_month.revenue_revision_gap_yuan,

        current_month.profit_ytd_yuan,
        current_month.employees_end,

        current_month.revenue_ttm_yuan,
        current_month.ttm_months_reported,

        base_month.output_ytd_yuan as base_output_ytd_yuan,
        base_month.revenue_ytd_yuan as base_revenue_ytd_yuan,
        base_month.profit_ytd_yuan as base_profit_ytd_yuan,

        current_month.source_file,
        current_month.source_line

    from with_windows as current_month
    left join industry as base_month
        on current_month.uscc = base_month.uscc
        and base_month.report_month = {{ add_months('current_month.report_month', -12) }}

)

select * from final
