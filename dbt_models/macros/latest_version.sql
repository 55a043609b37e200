{#
  Supersession of raw deliveries (docs/contract/FEEDS.md "Landing area").

  Returns a SELECT over `source_relation` that
  - keeps only rows whose delivery counts as arrived: _available_on <= the run's as-of date;
  - keeps, per key, the row with the greatest (_dataset_period, _version, _line):
    a later period's file or a `_vN` re-delivery wins for the keys it repeats,
    rows it does not repeat stay as they were.

  key_columns: list of column names or SQL expressions (e.g. "coalesce(uscc, name)").
  dated_by: for a register, the column dating its rows: rows dated after the as-of date are left
    out before the latest version is chosen (a later row of the same key, dated after the as-of
    date, did not replace the earlier one yet on that day).
  several_rows_per_key: a delivery may hold several different rows with one key (two loans of one
    day from one bank; the ingest spec's `several_rows_per_key`): all rows of the key's latest
    (_dataset_period, _version) are kept, and a later version's rows replace all of them.
#}
{% macro latest_version(source_relation, key_columns, dated_by=none, several_rows_per_key=false) -%}
    select *
    from {{ source_relation }}
    where _available_on <= {{ as_of_date() }}
    {%- if dated_by %}
      -- a register row dated after the as-of date did not exist then, nor did the version of a row it corrects
      and cast({{ dated_by }} as date) <= {{ as_of_date() }}
    {%- endif %}
    {%- if several_rows_per_key %}
    qualify dense_rank() over (
        partition by {{ key_columns | join(', ') }}
        order by _dataset_period desc nulls last, _version desc
    ) = 1
    {%- else %}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _dataset_period desc nulls last, _version desc, _line desc
    ) = 1
    {%- endif %}
{%- endmacro %}


{#
  The run's as-of date as a SQL DATE literal. The pipeline sets GXINDUSTRY_DBT_AS_OF for each dbt
  command (by hand: GXINDUSTRY_DBT_AS_OF=2024-11-25 dbt build); unset means "everything loaded".
  An environment variable rather than a dbt var: dbt re-parses the whole project when its vars
  change (every week), but only the files that read an environment variable when it changes.
#}
{% macro as_of_date() -%}
    cast('{{ env_var("GXINDUSTRY_DBT_AS_OF", "9999-12-31") }}' as date)
{%- endmacro %}
