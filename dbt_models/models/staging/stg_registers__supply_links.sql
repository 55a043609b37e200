-- First-time supply links of electronics suppliers (首次供需), one row per (supplier, buyer), money in 元.
with

source as (

    {{ latest_version(source('raw', 'registers_supply_links'), ['uscc', 'buyer_name'], dated_by='first_supply_on') }}

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

select * from renamed
