{{ config(materialized='table') }}
{# Each user's interests by topic: share of their engaged viewing time per topic over all history. #}
with totals as (
    select user_key, topic, sum(views) as views, sum(engaged_ms) as engaged_ms
    from {{ ref('int_users__daily_topic_attention') }}
    group by user_key, topic
)

select
    user_key,
    topic,
    views,
    engaged_ms,
    engaged_ms / nullif(sum(engaged_ms) over (partition by user_key), 0) as attention_share,
    row_number() over (partition by user_key order by engaged_ms desc, topic) as interest_rank
from totals
