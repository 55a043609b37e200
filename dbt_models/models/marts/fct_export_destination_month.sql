-- Enterprise x destination x month export values (CNY): what the forecast of exports to new
-- destinations learns its continuation from (does a first shipment somewhere repeat?).
with

export_lines as (

    select * from {{ ref('stg_customs__export') }}
    where uscc is not null

),

final as (

    select
        uscc,
        destination,
        export_month as month,
        cast(sum(value_cny_yuan) as decimal(18, 2)) as value_cny_yuan,
        cast(count(*) as integer) as lines

    from export_lines
    group by uscc, destination, export_month

)

select * from final
