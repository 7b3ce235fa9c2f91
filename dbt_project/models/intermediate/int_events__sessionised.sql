{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  Each event's session: a new session starts after 30 minutes (var session_gap_minutes) of inactivity.
  The run rebuilds every event day its landing window can change (late events) and reads one more day before
  that as context, so a session that crosses midnight keeps the id it got from its first event.
  Narrow on purpose (the columns session-level models need); join staging on event_id for the rest.
#}
with context as (
    select event_id, event_ts, event_date, user_key, event_type, device, network, geo, dwell_ms
    from {{ ref('stg_raw__events') }}
    where event_date between {{ window_start(var('lateness_days') + 1) }} and {{ window_end() }}
),

gaps as (
    select
        *,
        coalesce(event_ts - lag(event_ts) over by_user > interval {{ var('session_gap_minutes') }} minute, true)
            as starts_session
    from context
    window by_user as (partition by user_key order by event_ts, event_id)
),

with_start as (
    -- the latest session start so far is the start of this event's session (same window: one sort). Its id is
    -- hashed on the starting event only (~1 event in 12) and carried forward, not re-hashed on every event.
    select
        *,
        max(case when starts_session then event_ts end) over by_user as session_start_ts,
        last_value(case when starts_session then md5(user_key || '|' || epoch_ms(event_ts)::varchar) end
                   ignore nulls) over by_user as session_id
    from gaps
    window by_user as (partition by user_key order by event_ts, event_id
                       rows between unbounded preceding and current row)
)

select
    event_id, event_ts, event_date, user_key, event_type, device, network, geo, dwell_ms,
    session_id,
    session_start_ts
from with_start
where {{ event_days_in_window('event_date') }}
