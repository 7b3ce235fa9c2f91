{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_date',
    on_schema_change='fail'
  )
}}
{# Impressions and attributed clicks per ad and day, for point-in-time ad CTR features and ad dimensions. #}
select
    ad_id,
    {{ stable_mode("campaign_id") }} as campaign_id,
    event_date,
    count(*) as impressions,
    sum(is_clicked) as clicks
from {{ ref('fct_impressions') }}
where {{ event_days_in_window('event_date') }}
group by ad_id, event_date
