-- Enterprise x destination x quarter export values, with the new-destination flag of
-- measure 22 (nothing exported there in the look-back months before the quarter).
{%- set lookback = var('new_destination_lookback_months') | int %}
with

export_lines as (

    select * from {{ ref('stg_customs__export') }}
    where uscc is not null

),

countries as (

    select * from {{ ref('dim_country') }}

),

feed_coverage as (

    select min(export_month) as first_export_month_in_feed
    from {{ ref('stg_customs__export') }}

),

quarters as (

    select
        uscc,
        destination,
        {{ quarter_start('export_month') }} as quarter_start,
        cast(sum(value_cny_yuan) as decimal(18, 2)) as value_cny_yuan,
        cast(sum(value_usd) as decimal(18, 2)) as value_usd,
        cast(count(*) as integer) as lines,
        min(export_month) as first_export_month,
        max(export_month) as last_export_month

    from export_lines
    group by uscc, destination, {{ quarter_start('export_month') }}

),

with_history as (

    select
        *,
        lag(last_export_month) over (
            partition by uscc, destination order by quarter_start
        ) as last_export_month_before_quarter,
        {{ add_months('quarter_start', -lookback) }} as lookback_start_month

    from quarters

),

final as (

    select
        with_history.uscc,
        with_history.destination,
        countries.name_zh as destination_name_zh,
        with_history.quarter_start,
        with_history.value_cny_yuan,
        with_history.value_usd,
        with_history.lines,
        with_history.first_export_month,
        with_history.last_export_month,
        with_history.last_export_month_before_quarter,
        with_history.lookback_start_month,
        {{ lookback }} as lookback_months,
        (
            with_history.last_export_month_before_quarter is null
            or with_history.last_export_month_before_quarter < with_history.lookback_start_month
        ) as is_new_destination,
        feed_coverage.first_export_month_in_feed <= with_history.lookback_start_month
            as history_covers_lookback

    from with_history
    cross join feed_coverage
    left join countries on with_history.destination = countries.alpha3

)

select * from final
