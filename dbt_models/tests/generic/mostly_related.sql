{#
  Generic test: most distinct keys of the column are found in `to`.`field`; fails when fewer
  than `at_least` of them are.

  Where a feed covers more enterprises than the industrial directory (power account holders,
  VAT filers, project owners: docs/contract/FEEDS.md defines the directory as 规上 and tracked 临规
  enterprises only), a plain `relationships` test fails on every run and says nothing. What is a
  defect is matching that broke: a code column shifted, a feed delivered for the wrong province,
  USCCs mangled in transit. Then most keys stop matching, and this fails, returning one row with
  the counts.

  data_tests:
    - mostly_related:
        arguments:
          to: ref('dim_enterprise')
          field: uscc
          at_least: 0.5
#}
{% test mostly_related(model, column_name, to, field, at_least) %}
    with keys as (
        select distinct {{ column_name }} as key from {{ model }} where {{ column_name }} is not null
    ),
    counted as (
        select count(*) as keys,
               count(*) filter (where key in (select {{ field }} from {{ to }})) as related
        from keys
    )
    select keys, related, keys - related as unrelated, related * 1.0 / keys as related_share
    from counted
    where keys > 0 and related * 1.0 / keys < {{ at_least }}
{% endtest %}
