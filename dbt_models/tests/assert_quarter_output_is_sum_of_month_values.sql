{{ config(meta={'dagster': {'ref': {'name': 'fct_enterprise_quarter'}}}) }}
-- The quarter output / revenue of fct_enterprise_quarter (ytd difference) must equal the
-- sum of the derived month values of fct_enterprise_month in that quarter, wherever the
-- month before the quarter was reported (or the quarter is Q1). When it was not, the
-- contract counts the missing month as 0 while the month values take the latest earlier
-- report: the two differ by design there.
with

months as (

    select
        uscc,
        quarter_start,
        sum(output_month_yuan) as output_yuan,
        sum(revenue_month_yuan) as revenue_yuan
    from {{ ref('fct_enterprise_month') }}
    group by uscc, quarter_start

),

quarters as (

    select uscc, quarter_start, output_yuan, revenue_yuan
    from {{ ref('fct_enterprise_quarter') }}
    where start_ytd_month is not null or quarter = 1

)

select
    quarters.uscc,
    quarters.quarter_start,
    quarters.output_yuan,
    months.output_yuan as sum_of_month_output_yuan
from quarters
left join months
    on quarters.uscc = months.uscc
    and quarters.quarter_start = months.quarter_start
where quarters.output_yuan is distinct from months.output_yuan
    or quarters.revenue_yuan is distinct from months.revenue_yuan
