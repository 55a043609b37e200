{#
  Every dbt command that builds (the pipeline's, or one run by hand) first forgets the pipeline's
  record of its last complete build (raw._dbt_builds, dagster_project/lib/dbt_selection.py): a
  build the pipeline did not plan may leave models as of another date, so the next pipeline run
  must rebuild everything. The pipeline writes a new record after its own build completes.
  The `commit` is needed: dbt rolls the run-start hooks' connection back afterwards (on DuckDB
  that rollback then finds no transaction, which dbt logs at debug level and ignores).
#}
{% macro forget_last_pipeline_build() -%}
    {%- set record = adapter.get_relation(database=target.database, schema='raw', identifier='_dbt_builds') -%}
    {%- if record -%} delete from {{ record }}; commit {%- else -%} select 1 {%- endif -%}
{%- endmacro %}
