{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='landed_date',
    on_schema_change='fail'
  )
}}
{#
  Typed, deduplicated and de-identified events, one row per event_id, keyed by the landing day.
  A repeated event_id is kept once: the first delivery in (landing day, file, line) order, looking back over
  the lateness window so a redelivery in the next day's files is dropped too.
  Repeats are rare (~0.5% of lines): only their rows are ordered to pick the first delivery; the others pass
  straight through instead of going through a window over every (wide) row of the day.
#}
with landed as not materialized (
    -- scanned twice below: re-reading the columns is cheaper than DuckDB materialising the whole CTE
    select * from {{ source('raw', 'events') }}
    where dt between {{ window_start() }} and {{ window_end() }}
),

delivered_earlier as (
    select distinct event_id from {{ source('raw', 'events') }}
    where dt >= {{ window_start(var('lateness_days')) }} and dt < {{ window_start() }}
),

repeated as (
    select event_id from landed group by event_id having count(*) > 1
),

first_delivery as (
    select * from landed
    where event_id not in (select event_id from repeated)
    union all
    select * from landed
    where event_id in (select event_id from repeated)
    qualify row_number() over (partition by event_id order by dt, source_file, line_no) = 1
)

select
    event_id,
    event_ts,
    cast(event_ts as date) as event_date,
    dt as landed_date,
    cast(event_ts as date) < dt as is_late,
    event_type,
    {{ pseudonymise('user_id') }} as user_key,
    session_hint,
    item_id,
    ad_id,
    campaign_id,
    slot,
    request_id,
    lower(device) as device,
    lower(network) as network,
    upper(geo) as geo,
    dwell_ms,
    {{ mask_pii('"text"') }} as text_masked,
    json_extract_string(properties, '$.topic') as topic,
    try_cast(json_extract(properties, '$.propensity') as double) as propensity,
    -- the ads the serving policy chose from (impressions; NULL when the client does not log them)
    try_cast(json_extract(properties, '$.candidates') as varchar[]) as candidate_ad_ids,
    try_cast(json_extract(properties, '$.amount') as double) as amount
from first_delivery
where event_id not in (select event_id from delivered_earlier)
