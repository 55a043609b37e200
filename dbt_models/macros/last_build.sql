{#
  Watermarks of the incremental models (stg_power__daily, fct_power_month). Each row records the
  as-of date of the build that wrote it (built_as_of) and the newest load that build had
  (built_loaded_to). A raw row is unseen by the last build when it arrived after that build's
  as-of date or was loaded after its newest load (a _vN correction counts as arrived on its base
  file's date, so the date alone would miss it).

  last_build(relation): one row (as_of, loaded_to) over relation (default {{ this }}); 1900-01-01 when
  it is empty.
  unseen_by_last_build(alias): the condition on a raw row `alias`, joined to last_build.
#}
{% macro last_build(relation=this) -%}
    select
        coalesce(max(built_as_of), cast('1900-01-01' as date)) as as_of,
        coalesce(max(built_loaded_to), cast('1900-01-01' as timestamp)) as loaded_to
    from {{ relation }}
{%- endmacro %}


{% macro unseen_by_last_build(alias) -%}
    ({{ alias }}._available_on > last_build.as_of or {{ alias }}._loaded_at > last_build.loaded_to)
{%- endmacro %}


{#
  Whether every row of `relation` was written by its last build (a full build), queried when
  the caller runs; false at parse time and while the relation does not exist (`dbt compile`).
#}
{% macro last_build_wrote_every_row(relation) -%}
    {%- if not execute or adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set older = run_query(
        "select count(*) from " ~ relation ~ " as written cross join (" ~ last_build(relation) ~ ") as last_build"
        ~ " where written.built_as_of is distinct from last_build.as_of"
        ~ " or written.built_loaded_to is distinct from last_build.loaded_to") -%}
    {{ return(older.columns[0].values()[0] == 0) }}
{%- endmacro %}
