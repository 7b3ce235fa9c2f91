{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{# One row per user and day: the daily counters that point-in-time features and profiles sum over. #}
select
    user_key,
    event_date,
    count(*) as events,
    count(distinct session_id) as sessions,
    count(*) filter (where event_type = 'impression') as impressions,
    count(*) filter (where event_type = 'click') as clicks,
    count(*) filter (where event_type = 'view') as views,
    coalesce(sum(least(dwell_ms, {{ var('engaged_dwell_cap_ms') }})) filter (where event_type = 'view'), 0)
        as engaged_ms,
    count(*) filter (where event_type = 'like') as likes,
    count(*) filter (where event_type = 'share') as shares,
    count(*) filter (where event_type = 'comment') as comments,
    count(*) filter (where event_type = 'search') as searches,
    count(*) filter (where event_type = 'purchase') as purchases
from {{ ref('int_events__sessionised') }}
where {{ event_days_in_window('event_date') }}
group by user_key, event_date
