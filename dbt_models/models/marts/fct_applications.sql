-- Event subsidy applications (元), one row per application.
with

applications as (

    select * from {{ ref('stg_registers__applications') }}

),

final as (

    select
        application_id,
        uscc,
        activity_type,
        activity_name,
        held_on,
        {{ quarter_start('held_on') }} as held_quarter_start,
        claimed_cost_yuan,
        source_file,
        source_line

    from applications

)

select * from final
