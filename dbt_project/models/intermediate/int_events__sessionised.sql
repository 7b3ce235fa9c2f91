{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  Events with a session: a new session starts after 30 minutes (var session_gap_minutes) of inactivity.
  The run rebuilds every event day its landing window can change (late events) and reads one more day before
  that as context, so a session that crosses midnight keeps the id it got from its first event.
#}
with context as (
    select * from {{ ref('stg_raw__events') }}
    where event_date between {{ window_start(var('lateness_days') + 1) }} and {{ window_end() }}
),

gaps as (
    select
        *,
        case
            when lag(event_ts) over by_user is null then 1
            when event_ts - lag(event_ts) over by_user > interval {{ var('session_gap_minutes') }} minute then 1
            else 0
        end as starts_session
    from context
    window by_user as (partition by user_key order by event_ts, event_id)
),

numbered as (
    select *, sum(starts_session) over (partition by user_key order by event_ts, event_id) as session_seq
    from gaps
),

with_start as (
    select *, min(event_ts) over (partition by user_key, session_seq) as session_start_ts
    from numbered
)

select
    event_id, event_ts, event_date, landed_date, is_late, event_type, user_key, session_hint,
    item_id, ad_id, campaign_id, slot, request_id, device, network, geo, dwell_ms, text_masked, topic,
    propensity, amount,
    md5(user_key || '|' || strftime(session_start_ts, '%Y-%m-%dT%H:%M:%S.%f')) as session_id,
    session_start_ts
from with_start
where {{ event_days_in_window('event_date') }}
