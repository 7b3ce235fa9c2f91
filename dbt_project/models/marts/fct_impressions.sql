{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  One row per ad impression with its click label: clicked when a click with the same request_id follows within
  the attribution window (var attribution_window_minutes). Only the first such click counts.
#}
with impressions as (
    select e.*, s.session_id
    from {{ ref('stg_raw__events') }} as e
    join {{ ref('int_events__sessionised') }} as s using (event_id)
    where e.event_type = 'impression' and {{ event_days_in_window('e.event_date') }}
      and {{ event_days_in_window('s.event_date') }}
),

clicks as (
    select request_id, event_ts as clicked_at, dwell_ms as landing_dwell_ms
    from {{ ref('stg_raw__events') }}
    where event_type = 'click' and request_id is not null
      and event_date >= {{ window_start(var('lateness_days')) }}
),

attributed as (
    select
        i.event_id as impression_id,
        c.clicked_at,
        c.landing_dwell_ms
    from impressions as i
    join clicks as c
      on c.request_id = i.request_id
     and c.clicked_at >= i.event_ts
     and c.clicked_at <= i.event_ts + interval {{ var('attribution_window_minutes') }} minute
    qualify row_number() over (partition by i.event_id order by c.clicked_at) = 1
)

select
    i.event_id as impression_id,
    i.request_id,
    i.event_ts,
    i.event_date,
    hour(i.event_ts) as hour_of_day,
    isodow(i.event_ts) as day_of_week,
    i.user_key,
    i.session_id,
    i.ad_id,
    i.campaign_id,
    i.topic as ad_topic,
    i.slot,
    i.device,
    i.network,
    i.geo,
    i.propensity,
    i.candidate_ad_ids,
    i.is_late,
    case when a.impression_id is null then 0 else 1 end as is_clicked,
    a.clicked_at,
    date_diff('second', i.event_ts, a.clicked_at) as seconds_to_click,
    a.landing_dwell_ms
from impressions as i
left join attributed as a on a.impression_id = i.event_id
