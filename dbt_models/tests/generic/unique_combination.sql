{#
  Generic test: the combination of `combination_of_columns` is unique in the
  model (a multi-column primary key). No packages are downloaded in this
  project, so this replaces dbt_utils.unique_combination_of_columns.

  data_tests:
    - unique_combination:
        arguments:
          combination_of_columns: [uscc, month]
#}
{% test unique_combination(model, combination_of_columns) %}
    {%- set columns_csv = combination_of_columns | join(', ') %}
    select {{ columns_csv }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns_csv }}
    having count(*) > 1
{% endtest %}
