{#
  Pre-hook of fct_power_month (incremental by month): an account snapshot the last build has not
  seen can move accounts between enterprises in every month, so the table is emptied and the
  build that follows recomputes all months. "Not seen" is the test of the model's readings:
  arrived since the last build's as-of date, or loaded since its newest load.
#}
{% macro empty_when_account_snapshots_unseen() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where exists (
        select 1
        from {{ source('raw', 'power_accounts') }} as snapshot
        cross join ({{ last_build() }}) as last_build
        where snapshot._available_on <= {{ as_of_date() }}
          and {{ unseen_by_last_build('snapshot') }}
    )
    {%- endif -%}
{%- endmacro %}
