{#
  Use the custom schema name as-is, so relations land in `staging`,
  `intermediate`, `marts` and `reference` rather than `main_marts` etc.
  Nodes without a custom schema use the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
