{{ config(materialized='table') }}
{# User profile over all history: activity, main interest, device and network mix. Rebuilt whole each run. #}
with activity as (
    select
        user_key,
        min(event_date) as first_seen_date,
        max(event_date) as last_seen_date,
        count(*) as active_days,
        sum(events) as events,
        sum(sessions) as sessions,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(views) as views,
        sum(engaged_ms) as engaged_ms,
        sum(likes) as likes,
        sum(shares) as shares,
        sum(comments) as comments,
        sum(purchases) as purchases
    from {{ ref('int_users__daily_activity') }}
    group by user_key
),

context_mix as (
    -- share of the user's events per device and network, and the country most events came from
    select
        user_key,
        count(*) filter (where device = 'ios') / count(*) as share_ios,
        count(*) filter (where device = 'android') / count(*) as share_android,
        count(*) filter (where device = 'web') / count(*) as share_web,
        count(*) filter (where network = '5g') / count(*) as share_5g,
        count(*) filter (where network = '4g') / count(*) as share_4g,
        count(*) filter (where network = 'wifi') / count(*) as share_wifi,
        {{ stable_mode('geo') }} as main_geo
    from {{ ref('stg_raw__events') }}
    group by user_key
),

top_interest as (
    select user_key, topic as top_topic, attention_share as top_topic_share
    from {{ ref('dim_user_topic_interests') }}
    where interest_rank = 1
)

select
    a.*,
    a.clicks / nullif(a.impressions, 0) as ctr,
    t.top_topic,
    t.top_topic_share,
    m.share_ios, m.share_android, m.share_web,
    m.share_5g, m.share_4g, m.share_wifi,
    m.main_geo
from activity as a
left join top_interest as t using (user_key)
left join context_mix as m using (user_key)
