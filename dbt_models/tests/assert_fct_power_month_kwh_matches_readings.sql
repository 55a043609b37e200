{{ config(meta={'dagster': {'ref': {'name': 'fct_power_month'}}}) }}
-- Every 正常/估算 kWh of a USCC-matched account is counted once in fct_power_month.
with

readings as (

    select sum(daily.kwh) as kwh
    from {{ ref('stg_power__daily') }} as daily
    inner join {{ ref('stg_power__accounts') }} as accounts
        on daily.account_no = accounts.account_no
    where accounts.uscc is not null
        and daily.data_flag in ('正常', '估算')

),

facts as (

    select sum(kwh) as kwh from {{ ref('fct_power_month') }}

)

select readings.kwh as readings_kwh, facts.kwh as fact_kwh
from readings cross join facts
where coalesce(readings.kwh, 0) <> coalesce(facts.kwh, 0)
