{# Mask e-mail addresses and phone numbers in free text before it leaves staging. #}
{% macro mask_pii(column) -%}
    regexp_replace(
        regexp_replace({{ column }}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
        '\+?\(?\d[\d\s().-]{6,}\d', '<phone>', 'g')
{%- endmacro %}

{# Salted hash of a user id: stable across days, not reversible without the salt. #}
{% macro pseudonymise(column) -%}
    sha256('{{ env_var("ATTNFLOW_DBT_PSEUDONYM_SALT", env_var("ATTNFLOW_PSEUDONYM_SALT", "attnflow-dev-salt")) }}' || {{ column }})
{%- endmacro %}
