{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  One row per user and active day: the usage pattern the engagement-health model reads (active minutes, sessions,
  the longest session, late-night sessions, the day streak, attention on the top topic, and the day against the
  user's own baseline). Point in time: the baseline averages the user's active days among the
  feature_lookback_days days *before* the day, and the streak counts consecutive active days ending on the day,
  capped at feature_lookback_days, so every value depends only on that day and earlier ones and is the same
  whichever window a run processes.
#}
with activity as (
    select user_key, event_date, events, engaged_ms / 60000.0 as active_minutes
    from {{ ref('int_users__daily_activity') }}
    where event_date between {{ window_start(var('lateness_days') + var('feature_lookback_days')) }}
                         and {{ window_end() }}
),

history as (
    select
        *,
        avg(active_minutes) over earlier as baseline_minutes,
        count(*) over earlier as baseline_active_days,
        -- consecutive days share one island: the date minus the day's rank is constant along a run of days
        event_date - cast(row_number() over (partition by user_key order by event_date) as integer) as island
    from activity
    window earlier as (partition by user_key order by event_date
                       range between interval {{ var('feature_lookback_days') }} day preceding
                             and interval 1 day preceding)
),

streaks as (
    -- numbered over the whole read range (a WHERE here would number only the run's window)
    select
        *,
        least(row_number() over (partition by user_key, island order by event_date),
              {{ var('feature_lookback_days') }}) as day_streak
    from history
),

in_window as (
    select * from streaks where {{ event_days_in_window('event_date') }}
),

sessions as (
    select
        user_key,
        session_date as event_date,
        count(*) as sessions,
        max(duration_s) / 60.0 as longest_session_minutes,
        count(*) filter (where hour(started_at) < {{ var('late_night_end_hour') }}) as late_night_sessions,
        {{ stable_mode('device') }} as main_device
    from {{ ref('fct_sessions') }}
    where {{ event_days_in_window('session_date') }}
    group by user_key, session_date
),

topics as (
    select user_key, event_date, max(engaged_ms) / nullif(sum(engaged_ms), 0) as top_topic_share
    from {{ ref('int_users__daily_topic_attention') }}
    where {{ event_days_in_window('event_date') }}
    group by user_key, event_date
)

select
    s.user_key,
    s.event_date,
    s.events,
    s.active_minutes,
    coalesce(x.sessions, 0) as sessions,
    coalesce(x.longest_session_minutes, 0) as longest_session_minutes,
    coalesce(x.late_night_sessions, 0) as late_night_sessions,
    coalesce(x.late_night_sessions / nullif(x.sessions, 0), 0) as late_night_share,
    s.day_streak,
    t.top_topic_share,
    s.baseline_minutes,
    s.baseline_active_days,
    s.active_minutes / nullif(s.baseline_minutes, 0) as minutes_vs_baseline,
    x.main_device
from in_window as s
left join sessions as x using (user_key, event_date)
left join topics as t using (user_key, event_date)
