{#
  Supersession of raw deliveries (FEEDS.md "Landing area").

  Returns a SELECT over `source_relation` that
  - keeps only rows whose delivery counts as arrived: _available_on <= var('as_of');
  - keeps, per key, the row with the greatest (_dataset_period, _version, _line):
    a later period's file or a `_vN` re-delivery wins for the keys it repeats,
    rows it does not repeat stay as they were.

  key_columns: list of column names or SQL expressions (e.g. "coalesce(uscc, name)").
#}
{% macro latest_version(source_relation, key_columns) -%}
    select *
    from {{ source_relation }}
    where _available_on <= {{ as_of_date() }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _dataset_period desc nulls last, _version desc, _line desc
    ) = 1
{%- endmacro %}


{# The run's as-of date as a SQL DATE literal. #}
{% macro as_of_date() -%}
    cast('{{ var("as_of") }}' as date)
{%- endmacro %}
