{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{#
  Daily attention per user and item. engaged_ms is dwell-weighted engaged time: the sum of view dwell, each view
  capped at var engaged_dwell_cap_ms so an abandoned tab does not count as attention. attention_share is the item's
  share of the user's engaged time that day.
#}
with per_item as materialized (
    select
        user_key,
        item_id,
        event_date,
        max(topic) as topic,  -- an item's topic is fixed: max() is deterministic and cheap
        count(*) filter (where event_type = 'view') as views,
        coalesce(sum(least(dwell_ms, {{ var('engaged_dwell_cap_ms') }})) filter (where event_type = 'view'), 0)
            as engaged_ms,
        count(*) filter (where event_type = 'like') as likes,
        count(*) filter (where event_type = 'share') as shares,
        count(*) filter (where event_type = 'comment') as comments
    from {{ ref('stg_raw__events') }}
    where item_id is not null and {{ event_days_in_window('event_date') }}
    group by user_key, item_id, event_date
),

user_day as (
    -- the user's engaged time that day, as an aggregate joined back: a window partitioned by (user, day) over
    -- every user-item row sorts them all, and DuckDB's own rewrite of it recomputed per_item
    select user_key, event_date, sum(engaged_ms) as day_engaged_ms
    from per_item
    group by user_key, event_date
)

select
    p.*,
    case when u.day_engaged_ms > 0 then p.engaged_ms / u.day_engaged_ms end as attention_share
from per_item as p
join user_day as u on u.user_key = p.user_key and u.event_date = p.event_date
