{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='session_date',
    on_schema_change='fail'
  )
}}
{# One row per session, dated by its first event. #}
select
    session_id,
    any_value(user_key) as user_key,
    cast(min(event_ts) as date) as session_date,
    min(event_ts) as started_at,
    max(event_ts) as ended_at,
    date_diff('millisecond', min(event_ts), max(event_ts)) / 1000.0 as duration_s,
    count(*) as events,
    count(*) filter (where event_type = 'view') as views,
    count(*) filter (where event_type = 'impression') as impressions,
    count(*) filter (where event_type = 'click') as clicks,
    {{ stable_mode("device") }} as device,
    {{ stable_mode("network") }} as network
from {{ ref('int_events__sessionised') }}
where {{ event_days_in_window('cast(session_start_ts as date)') }}
group by session_id
