-- Enterprise x quarter with the same quarter one year earlier as base period.
with

quarters as (

    select
        *,
        -- A quarter is a base for the same quarter one year later only where it reported through
        -- its last month: its output is the cumulative at its end less the one before it, and a
        -- missing end is no 0 (one month against three)
        coalesce(
            output_yuan > 0 and last_reported_month = {{ add_months('quarter_start', 2) }}, false
        ) as serves_as_base

    from {{ ref('int_enterprise_quarter__ytd') }}

),

final as (

    select
        current_quarter.uscc,
        current_quarter.quarter_start,
        current_quarter.year,
        current_quarter.quarter,

        current_quarter.output_yuan,
        current_quarter.revenue_yuan,
        current_quarter.output_ytd_yuan,
        current_quarter.revenue_ytd_yuan,
        current_quarter.profit_ytd_yuan,
        current_quarter.employees_end,
        current_quarter.months_reported,
        current_quarter.first_reported_month,
        current_quarter.last_reported_month,
        current_quarter.is_complete,
        current_quarter.start_ytd_month,

        base_quarter.output_yuan as base_output_yuan,
        base_quarter.revenue_yuan as base_revenue_yuan,
        base_quarter.output_ytd_yuan as base_output_ytd_yuan,
        base_quarter.revenue_ytd_yuan as base_revenue_ytd_yuan,
        base_quarter.profit_ytd_yuan as base_profit_ytd_yuan,
        coalesce(base_quarter.months_reported, 0) as base_months_reported,
        base_quarter.last_reported_month as base_last_reported_month,
        coalesce(base_quarter.is_complete, false) as base_is_complete,

        current_quarter.serves_as_base,
        coalesce(base_quarter.serves_as_base, false) as has_base,
        case
            when base_quarter.serves_as_base
                then cast(current_quarter.output_yuan as double) / cast(base_quarter.output_yuan as double) - 1
        end as output_yoy,
        case
            when base_quarter.revenue_yuan > 0
                then cast(current_quarter.revenue_yuan as double) / cast(base_quarter.revenue_yuan as double) - 1
        end as revenue_yoy

    from quarters as current_quarter
    left join quarters as base_quarter
        on current_quarter.uscc = base_quarter.uscc
        and base_quarter.quarter_start = {{ add_months('current_quarter.quarter_start', -12) }}

)

select * from final
