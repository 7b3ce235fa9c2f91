{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  CTR training table: one row per impression with its label and point-in-time features. Every history feature of
  an impression on day D is computed from days D - feature_lookback_days .. D - 1 only, never from day D or later,
  so a model trained here sees at serving time exactly what it saw in training (no label leakage).
  Rates are smoothed towards a prior (alpha clicks over beta impressions) so a new user or ad gets a sane value.
#}
{% set lookback = var('feature_lookback_days') %}
{% set prior_clicks = 1 %}
{% set prior_impressions = 30 %}

with impressions as (
    select * from {{ ref('fct_impressions') }}
    where {{ event_days_in_window('event_date') }}
),

user_days as (
    select distinct user_key, event_date as feature_date from impressions
),

user_ad_days as (
    -- attributed clicks, so that a user's CTR means the same as the label
    select user_key, event_date, count(*) as impressions, sum(is_clicked) as clicks
    from {{ ref('fct_impressions') }}
    where event_date between {{ window_start(var('lateness_days') + lookback) }} and {{ window_end() }}
    group by user_key, event_date
),

user_ad_history as (
    select d.user_key, d.feature_date, sum(a.impressions) as user_impressions, sum(a.clicks) as user_clicks
    from user_days as d
    join user_ad_days as a
      on a.user_key = d.user_key
     and a.event_date < d.feature_date
     and a.event_date >= d.feature_date - {{ lookback }}
    group by d.user_key, d.feature_date
),

user_history as (
    select
        d.user_key,
        d.feature_date,
        sum(a.views) as user_views,
        sum(a.engaged_ms) as user_engaged_ms,
        sum(a.sessions) as user_sessions,
        count(*) as user_active_days
    from user_days as d
    join {{ ref('int_users__daily_activity') }} as a
      on a.user_key = d.user_key
     and a.event_date < d.feature_date
     and a.event_date >= d.feature_date - {{ lookback }}
    group by d.user_key, d.feature_date
),

user_topics as (
    select
        d.user_key,
        d.feature_date,
        t.topic,
        sum(t.engaged_ms) as engaged_ms
    from user_days as d
    join {{ ref('int_users__daily_topic_attention') }} as t
      on t.user_key = d.user_key
     and t.event_date < d.feature_date
     and t.event_date >= d.feature_date - {{ lookback }}
    group by d.user_key, d.feature_date, t.topic
),

user_topic_shares as (
    select
        *,
        engaged_ms / nullif(sum(engaged_ms) over (partition by user_key, feature_date), 0) as topic_share,
        row_number() over (partition by user_key, feature_date order by engaged_ms desc, topic) as topic_rank
    from user_topics
),

ad_days as (
    select distinct ad_id, campaign_id, event_date as feature_date from impressions
),

ad_history as (
    select
        d.ad_id,
        d.feature_date,
        sum(p.impressions) as ad_impressions,
        sum(p.clicks) as ad_clicks
    from ad_days as d
    join {{ ref('fct_ad_daily_performance') }} as p
      on p.ad_id = d.ad_id
     and p.event_date < d.feature_date
     and p.event_date >= d.feature_date - {{ lookback }}
    group by d.ad_id, d.feature_date
),

campaign_history as (
    select
        d.campaign_id,
        d.feature_date,
        sum(p.impressions) as campaign_impressions,
        sum(p.clicks) as campaign_clicks
    from (select distinct campaign_id, feature_date from ad_days) as d
    join {{ ref('fct_ad_daily_performance') }} as p
      on p.campaign_id = d.campaign_id
     and p.event_date < d.feature_date
     and p.event_date >= d.feature_date - {{ lookback }}
    group by d.campaign_id, d.feature_date
)

select
    i.impression_id,
    i.event_date,
    i.event_ts,
    i.is_clicked,
    -- categorical context
    i.ad_id,
    i.campaign_id,
    i.ad_topic,
    i.slot,
    i.device,
    i.network,
    i.geo,
    i.hour_of_day,
    i.day_of_week,
    i.propensity,
    -- user history (point in time)
    coalesce(ua.user_impressions, 0) as user_impressions_lookback,
    coalesce(ua.user_clicks, 0) as user_clicks_lookback,
    (coalesce(ua.user_clicks, 0) + {{ prior_clicks }})
        / (coalesce(ua.user_impressions, 0) + {{ prior_impressions }}) as user_ctr_smoothed,
    coalesce(uh.user_views, 0) as user_views_lookback,
    coalesce(uh.user_engaged_ms, 0) as user_engaged_ms_lookback,
    coalesce(uh.user_sessions, 0) as user_sessions_lookback,
    coalesce(uh.user_active_days, 0) as user_active_days_lookback,
    coalesce(ts.topic_share, 0) as user_share_on_ad_topic,
    top.topic as user_top_topic,
    -- ad and campaign history (point in time)
    coalesce(ah.ad_impressions, 0) as ad_impressions_lookback,
    coalesce(ah.ad_clicks, 0) as ad_clicks_lookback,
    (coalesce(ah.ad_clicks, 0) + {{ prior_clicks }})
        / (coalesce(ah.ad_impressions, 0) + {{ prior_impressions }}) as ad_ctr_smoothed,
    (coalesce(ch.campaign_clicks, 0) + {{ prior_clicks }})
        / (coalesce(ch.campaign_impressions, 0) + {{ prior_impressions }}) as campaign_ctr_smoothed
from impressions as i
left join user_history as uh on uh.user_key = i.user_key and uh.feature_date = i.event_date
left join user_ad_history as ua on ua.user_key = i.user_key and ua.feature_date = i.event_date
left join user_topic_shares as ts
  on ts.user_key = i.user_key and ts.feature_date = i.event_date and ts.topic = i.ad_topic
left join user_topic_shares as top
  on top.user_key = i.user_key and top.feature_date = i.event_date and top.topic_rank = 1
left join ad_history as ah on ah.ad_id = i.ad_id and ah.feature_date = i.event_date
left join campaign_history as ch on ch.campaign_id = i.campaign_id and ch.feature_date = i.event_date
