{#
  The landing-day window of this run, as SQL date literals. Every incremental model filters by it on every run
  (not only inside is_incremental()), so a run touches exactly its partitions and a re-run replaces them.
#}
{% macro window_start(extra_days_before=0) -%}
    (DATE '{{ var("min_date") }}' - INTERVAL {{ extra_days_before }} DAY)::DATE
{%- endmacro %}

{% macro window_end() -%}
    DATE '{{ var("max_date") }}'
{%- endmacro %}

{#- Event days a landing window can change: late events land up to lateness_days after their day. -#}
{% macro event_days_in_window(column) -%}
    {{ column }} BETWEEN {{ window_start(var("lateness_days")) }} AND {{ window_end() }}
{%- endmacro %}
