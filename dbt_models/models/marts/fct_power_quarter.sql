-- Enterprise x quarter electricity consumption: the months of fct_power_month added up, with how
-- far the daily readings reach (a quarter in progress is read up to last_reading_date).
with

power_months as (

    select * from {{ ref('fct_power_month') }}

),

final as (

    select
        uscc,
        quarter_start,
        cast(sum(kwh) as decimal(18, 3)) as kwh,
        cast(sum(days_with_reading) as integer) as days_with_reading,
        max(last_reading_date) as last_reading_date,
        cast(count(*) as integer) as months_with_readings

    from power_months
    group by uscc, quarter_start

)

select * from final
