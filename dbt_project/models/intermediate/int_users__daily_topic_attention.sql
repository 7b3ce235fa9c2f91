{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{# Engaged time per user, topic and day: the raw material of interest profiles and topic-affinity features. #}
select
    user_key,
    event_date,
    topic,
    count(*) as views,
    sum(least(coalesce(dwell_ms, 0), {{ var('engaged_dwell_cap_ms') }})) as engaged_ms
from {{ ref('stg_raw__events') }}
where event_type = 'view' and topic is not null and {{ event_days_in_window('event_date') }}
group by user_key, event_date, topic
