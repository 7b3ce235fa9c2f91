{#
  The most frequent non-null value, ties broken by the smallest value. DuckDB's mode() picks an arbitrary value
  on ties, which would make re-runs differ.
#}
{% macro stable_mode(column) -%}
    list_sort(list_transform(map_entries(histogram({{ column }})),
                             lambda e: {'n': -(e.value::BIGINT), 'k': e.key}))[1].k
{%- endmacro %}
