{{ config(materialized='table') }}
{# Ads with campaign, topic and delivery over all history. #}
with delivery as (
    select
        ad_id,
        {{ stable_mode("campaign_id") }} as campaign_id,
        {{ stable_mode("ad_topic") }} as topic,
        min(event_date) as first_served_date,
        max(event_date) as last_served_date,
        count(*) as impressions,
        sum(is_clicked) as clicks
    from {{ ref('fct_impressions') }}
    group by ad_id
)

select *, clicks / nullif(impressions, 0) as ctr from delivery
