{{ config(materialized='table') }}
{#
  Every comment with its human label where one exists. Rebuilt whole on each run (comments are a small share of
  events) so that labels arriving after their comment's day are always joined.
#}
select
    e.event_id as comment_id,
    e.event_ts,
    e.event_date,
    e.user_key,
    e.item_id,
    e.campaign_id,
    e.topic as item_topic,
    e.text_masked as comment_text,
    length(e.text_masked) as text_length,
    len(string_split(trim(e.text_masked), ' ')) as word_count,
    a.label,
    a.annotated_at
from {{ ref('stg_raw__events') }} as e
left join {{ ref('stg_raw__comment_annotations') }} as a on a.comment_id = e.event_id
where e.event_type = 'comment'
