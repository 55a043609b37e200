-- Enterprise x quarter (quarters with at least one reported month): cumulative values
-- at the last reported month of the quarter and at the span's start. docs/contract/MEASURES.md: the
-- output of a span is the difference of the cumulative column at the span's ends within
-- the year, a missing earlier month counting as 0 — so the start is the ytd of the month
-- before the quarter (e.g. September for Q4), 0 when that month was not reported or
-- lies in the previous year (Q1).
with

months as (

    select
        uscc,
        report_month,
        report_year,
        {{ quarter_start('report_month') }} as quarter_start,
        previous_reported_month,
        output_ytd_yuan,
        coalesce(previous_output_ytd_yuan, 0) as previous_output_ytd_yuan,
        revenue_ytd_yuan,
        coalesce(previous_revenue_ytd_yuan, 0) as previous_revenue_ytd_yuan,
        profit_ytd_yuan,
        employees_end

    from {{ ref('stg_stats__industry') }}

),

flagged as (

    select
        *,
        row_number() over (partition by uscc, quarter_start order by report_month desc) as nth_from_last,
        row_number() over (partition by uscc, quarter_start order by report_month) as nth_from_first

    from months

),

quarters as (

    select
        uscc,
        quarter_start,
        max(report_year) as year,
        cast(count(*) as integer) as months_reported,
        min(report_month) as first_reported_month,
        max(report_month) as last_reported_month,
        max(case when nth_from_last = 1 then output_ytd_yuan end) as output_ytd_yuan,
        max(case when nth_from_last = 1 then revenue_ytd_yuan end) as revenue_ytd_yuan,
        max(case when nth_from_last = 1 then profit_ytd_yuan end) as profit_ytd_yuan,
        max(case when nth_from_last = 1 then employees_end end) as employees_end

    from flagged
    group by uscc, quarter_start

),

with_start as (

    select
        quarters.*,
        span_start.report_month as start_ytd_month,
        coalesce(span_start.output_ytd_yuan, 0) as start_output_ytd_yuan,
        coalesce(span_start.revenue_ytd_yuan, 0) as start_revenue_ytd_yuan

    from quarters
    left join months as span_start
        on span_start.uscc = quarters.uscc
        and span_start.report_month = {{ add_months('quarters.quarter_start', -1) }}
        and span_start.report_year = quarters.year

),

final as (

    select
        uscc,
        quarter_start,
        year,
        cast((extract(month from quarter_start) + 2) / 3 as integer) as quarter,
        months_reported,
        first_reported_month,
        last_reported_month,
        months_reported = 3 as is_complete,
        start_ytd_month,
        start_output_ytd_yuan,
        start_revenue_ytd_yuan,
        output_ytd_yuan,
        revenue_ytd_yuan,
        cast(output_ytd_yuan - start_output_ytd_yuan as decimal(18, 2)) as output_yuan,
        cast(revenue_ytd_yuan - start_revenue_ytd_yuan as decimal(18, 2)) as revenue_yuan,
        profit_ytd_yuan,
        employees_end

    from with_start

)

select * from final
