{{ config(materialized='table') }}
{# Content items with their topic (most frequently reported) and engagement over all history. #}
select
    item_id,
    {{ stable_mode("topic") }} as topic,
    min(event_date) as first_seen_date,
    max(event_date) as last_seen_date,
    sum(views) as views,
    count(distinct user_key) as unique_users,
    sum(engaged_ms) as engaged_ms,
    sum(engaged_ms) / nullif(sum(views), 0) as avg_engaged_ms_per_view,
    sum(likes) as likes,
    sum(shares) as shares,
    sum(comments) as comments
from {{ ref('fct_daily_attention') }}
group by item_id
