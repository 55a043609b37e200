-- The month of power being read, per enterprise: kWh read from the 1st to the latest day read,
-- and what the same enterprise read a year before, for the forecast to tell what share of a
-- month the days read carry.
--
-- Why: the days read so far are not an even slice of the month. On 9 December 2024 the eight days
-- read held two Sundays; on 14 October the seven National Day holidays. Completing the month at
-- the pace of its days read made the month 1-7% short, and M24 (paid on the increment of power)
-- 15-20% low. The year before gives both corrections: the same dates (holidays keep their dates)
-- and the enterprise's mean kWh per weekday, which prices this year's days and the year before's
-- dates alike. The share is then
--     kwh_year_before_same_dates / weekday_kwh_year_before_same_dates   (what the dates do beyond their weekdays)
--   × weekday_kwh_days_read / weekday_kwh_month                        (this year's weekdays)
-- (dagster_project/lib/forecast/signal.py, read_shares; it adds the four up per industry group).
--
-- One row per enterprise with a reading in the month of the latest day read; no row at all when
-- that day is the month's last (every month read is then complete: fct_power_month). Accounts as
-- in fct_power_month (matched to a USCC in the latest account snapshots); 正常/估算 readings.
with

readings as (

    select * from {{ ref('stg_power__daily') }}

),

accounts as (

    select account_no, uscc from {{ ref('stg_power__accounts') }}
    where uscc is not null

),

month_being_read as (

    select
        cast({{ dbt.date_trunc('month', 'max(reading_date)') }} as date) as month,
        max(reading_date) as last_reading_date
    from readings
    having max(reading_date) < cast({{ dbt.last_day('max(reading_date)', 'month') }} as date)

),

windows as (

    select
        month,
        last_reading_date,
        cast({{ dbt.last_day('month', 'month') }} as date) as month_to,
        cast(month - interval 1 year as date) as year_before_from,
        cast(last_reading_date - interval 1 year as date) as year_before_read_to,
        cast({{ dbt.last_day('month - interval 1 year', 'month') }} as date) as year_before_to
    from month_being_read

),

enterprise_days as (

    select
        accounts.uscc,
        readings.reading_date,
        sum(readings.kwh) as kwh
    from readings
    inner join accounts on readings.account_no = accounts.account_no
    cross join windows
    where readings.data_flag in ('正常', '估算')
      and (
          readings.reading_date between windows.month and windows.last_reading_date
          or readings.reading_date between windows.year_before_from and windows.year_before_to
      )
    group by accounts.uscc, readings.reading_date

),

-- The enterprise's kWh per weekday over the month a year before (all seven weekdays read).
year_before_weekdays as (

    select
        enterprise_days.uscc,
        isodow(enterprise_days.reading_date) as weekday,
        sum(enterprise_days.kwh) as kwh,
        count(*) as days
    from enterprise_days
    cross join windows
    where enterprise_days.reading_date between windows.year_before_from and windows.year_before_to
    group by enterprise_days.uscc, isodow(enterprise_days.reading_date)
    qualify count(*) over (partition by enterprise_days.uscc) = 7

),

-- How many of each weekday: this year's days read, this year's month, the year before's same dates.
weekday_counts as (

    select
        isodow(day) as weekday,
        count(*) filter (where day <= windows.last_reading_date and day >= windows.month) as days_read,
        count(*) filter (where day >= windows.month) as days_month,
        count(*) filter (where day <= windows.year_before_read_to) as days_year_before_same_dates
    from windows
    cross join (
        select cast(unnest(generate_series(windows.month, windows.month_to, interval 1 day)) as date) as day
        from windows
        union all
        select cast(unnest(generate_series(windows.year_before_from, windows.year_before_read_to, interval 1 day)) as date)
        from windows
    ) as days
    group by isodow(day)

),

-- Each weekday's mean × its count rounded to DECIMAL before they are added up: a sum of doubles
-- depends on the order DuckDB's threads add them in, and a rerun must give the same table.
weekday_priced as (

    select
        year_before_weekdays.uscc,
        sum(cast(year_before_weekdays.kwh * weekday_counts.days_read / year_before_weekdays.days
            as decimal(18, 3))) as weekday_kwh_days_read,
        sum(cast(year_before_weekdays.kwh * weekday_counts.days_month / year_before_weekdays.days
            as decimal(18, 3))) as weekday_kwh_month,
        sum(cast(year_before_weekdays.kwh * weekday_counts.days_year_before_same_dates / year_before_weekdays.days
            as decimal(18, 3))) as weekday_kwh_year_before_same_dates
    from year_before_weekdays
    inner join weekday_counts on year_before_weekdays.weekday = weekday_counts.weekday
    group by year_before_weekdays.uscc

),

sums as (

    select
        enterprise_days.uscc,
        sum(enterprise_days.kwh) filter (where enterprise_days.reading_date >= windows.month) as kwh_read,
        sum(enterprise_days.kwh) filter (
            where enterprise_days.reading_date between windows.year_before_from and windows.year_before_read_to
        ) as kwh_year_before_same_dates,
        sum(enterprise_days.kwh) filter (
            where enterprise_days.reading_date between windows.year_before_from and windows.year_before_to
        ) as kwh_year_before_month
    from enterprise_days
    cross join windows
    group by enterprise_days.uscc

),

final as (

    select
        sums.uscc,
        windows.month,
        windows.last_reading_date,
        cast(datediff('day', windows.month, windows.last_reading_date) + 1 as integer) as days_read,
        cast(extract(day from windows.month_to) as integer) as days_in_month,
        cast(sums.kwh_read as decimal(18, 3)) as kwh_read,
        cast(coalesce(sums.kwh_year_before_same_dates, 0) as decimal(18, 3)) as kwh_year_before_same_dates,
        cast(coalesce(sums.kwh_year_before_month, 0) as decimal(18, 3)) as kwh_year_before_month,
        cast(weekday_priced.weekday_kwh_days_read as decimal(18, 3)) as weekday_kwh_days_read,
        cast(weekday_priced.weekday_kwh_month as decimal(18, 3)) as weekday_kwh_month,
        cast(weekday_priced.weekday_kwh_year_before_same_dates as decimal(18, 3)) as weekday_kwh_year_before_same_dates
    from sums
    cross join windows
    left join weekday_priced on sums.uscc = weekday_priced.uscc
    where sums.kwh_read > 0

)

select * from final
