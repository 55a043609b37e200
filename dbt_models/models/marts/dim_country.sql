-- ISO 3166-1 alpha-3 countries (reference seed).
with

countries as (

    select * from {{ ref('ref_iso3166_countries') }}

),

final as (

    select alpha3, name_en, name_zh from countries

)

select * from final
