-- Enterprises on the 两高 list.
with

two_high as (

    select * from {{ ref('stg_registers__two_high') }}

),

enterprises as (

    select uscc, enterprise_name from {{ ref('dim_enterprise') }}

),

final as (

    select
        two_high.uscc,
        two_high.process_or_product,
        enterprises.enterprise_name,
        enterprises.uscc is not null as in_directory,
        two_high.source_file,
        two_high.source_line

    from two_high
    left join enterprises on two_high.uscc = enterprises.uscc

)

select * from final
