-- First-time supply links of electronics suppliers (首次供需), one row per (supplier, buyer), money in 元.
with

source as (

    {{ latest_version(source('raw', 'registers_supply_links'), ['uscc', 'buyer_name']) }}

),

renamed as (

    select
        uscc,
        buyer_name,
        cast(first_supply_on as date) as first_supply_on,
        {{ to_yuan('contract_10k_yuan', 10000) }} as contract_yuan,
        _version as source_version,
        _file as source_file,
        _line as source_line

    from source

)

-- A register is a standing list kept by hand: a run as of a day sees only the rows dated on or
-- before it (what the register could hold that day), so that a replay of a past day is honest.
select * from renamed
where first_supply_on <= {{ as_of_date() }}
