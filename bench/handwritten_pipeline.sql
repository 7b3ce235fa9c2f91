-- The bar attnflow's orchestration is measured against: the transformations of the dbt project (every table the
-- daily job builds: staging, sessions, impressions with click labels, daily attention, daily user and topic
-- counters, ad performance, point-in-time CTR features, comments with labels, the profiles and dimensions)
-- written as one DuckDB script over the same landing files, the way one would write it by hand for one day.
-- Not done here, and done by the pipeline: line-by-line quarantine with reasons (bad lines are simply skipped by
-- ignore_errors), dbt tests, Great Expectations checks, incremental bookkeeping, orchestration.
-- The bench script replaces {files}, {annotations}, {day} and {salt}.
SET TimeZone = 'UTC';

CREATE OR REPLACE MACRO stable_mode(col) AS
    list_sort(list_transform(map_entries(histogram(col)), lambda e: {'n': -(e.value::BIGINT), 'k': e.key}))[1].k;
CREATE OR REPLACE MACRO mask_pii(col) AS
    regexp_replace(regexp_replace(col, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
                   '\+?\(?\d[\d\s().-]{6,}\d', '<phone>', 'g');

-- Contract filter, dedupe by event_id, pseudonymised user, normalised context, masked text, properties.
CREATE OR REPLACE TABLE events AS
SELECT event_id, event_ts, CAST(event_ts AS DATE) AS event_date, CAST(event_ts AS DATE) < DATE '{day}' AS is_late,
       event_type, sha256('{salt}' || user_id) AS user_key, item_id, ad_id, campaign_id, slot, request_id,
       lower(device) AS device, lower(network) AS network, upper(geo) AS geo, dwell_ms,
       mask_pii("text") AS text_masked, json_extract_string(properties, '$.topic') AS topic,
       try_cast(json_extract(properties, '$.propensity') AS DOUBLE) AS propensity,
       try_cast(json_extract(properties, '$.candidates') AS VARCHAR[]) AS candidate_ad_ids,
       try_cast(json_extract(properties, '$.amount') AS DOUBLE) AS amount
FROM read_json({files}, format = 'newline_delimited', ignore_errors = true,
    columns = {event_id: 'VARCHAR', event_ts: 'TIMESTAMPTZ', event_type: 'VARCHAR', user_id: 'VARCHAR',
               item_id: 'VARCHAR', ad_id: 'VARCHAR', campaign_id: 'VARCHAR', slot: 'INTEGER',
               request_id: 'VARCHAR', device: 'VARCHAR', network: 'VARCHAR', geo: 'VARCHAR',
               dwell_ms: 'BIGINT', "text": 'VARCHAR', properties: 'JSON'})
WHERE event_id <> '' AND user_id <> '' AND event_ts IS NOT NULL
  AND event_type IN ('impression', 'click', 'view', 'like', 'share', 'comment', 'search', 'purchase')
  AND CAST(event_ts AS DATE) BETWEEN DATE '{day}' - 1 AND DATE '{day}'
  AND coalesce(dwell_ms, 0) >= 0
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_ts) = 1;

CREATE OR REPLACE TABLE sessionised AS
WITH gaps AS (
    SELECT *, CASE WHEN event_ts - lag(event_ts) OVER w > INTERVAL 30 MINUTE OR lag(event_ts) OVER w IS NULL
                   THEN 1 ELSE 0 END AS starts_session
    FROM events WINDOW w AS (PARTITION BY user_key ORDER BY event_ts, event_id)
)
SELECT *, sum(starts_session) OVER (PARTITION BY user_key ORDER BY event_ts, event_id) AS session_seq FROM gaps;

CREATE OR REPLACE TABLE sessions AS
SELECT md5(user_key || '|' || epoch_ms(min(event_ts))::VARCHAR) AS session_id, user_key, session_seq,
       CAST(min(event_ts) AS DATE) AS session_date, min(event_ts) AS started_at, max(event_ts) AS ended_at,
       date_diff('millisecond', min(event_ts), max(event_ts)) / 1000.0 AS duration_s, count(*) AS events,
       count(*) FILTER (WHERE event_type = 'view') AS views,
       count(*) FILTER (WHERE event_type = 'impression') AS impressions,
       count(*) FILTER (WHERE event_type = 'click') AS clicks,
       stable_mode(device) AS device, stable_mode(network) AS network
FROM sessionised GROUP BY user_key, session_seq;

CREATE OR REPLACE TABLE impressions AS
WITH attributed AS (
    SELECT i.event_id, c.event_ts AS clicked_at, c.dwell_ms AS landing_dwell_ms
    FROM events i
    JOIN events c ON c.event_type = 'click' AND c.request_id = i.request_id
     AND c.event_ts BETWEEN i.event_ts AND i.event_ts + INTERVAL 30 MINUTE
    WHERE i.event_type = 'impression'
    QUALIFY row_number() OVER (PARTITION BY i.event_id ORDER BY c.event_ts) = 1
)
SELECT i.event_id AS impression_id, i.request_id, i.event_ts, i.event_date, hour(i.event_ts) AS hour_of_day,
       isodow(i.event_ts) AS day_of_week, i.user_key, s.session_id, i.ad_id, i.campaign_id, i.topic AS ad_topic,
       i.slot, i.device, i.network, i.geo, i.propensity, i.candidate_ad_ids, i.is_late,
       CASE WHEN a.event_id IS NULL THEN 0 ELSE 1 END AS is_clicked, a.clicked_at,
       date_diff('second', i.event_ts, a.clicked_at) AS seconds_to_click, a.landing_dwell_ms
FROM sessionised i
JOIN sessions s USING (user_key, session_seq)
LEFT JOIN attributed a ON a.event_id = i.event_id
WHERE i.event_type = 'impression';

CREATE OR REPLACE TABLE daily_attention AS
SELECT *, CASE WHEN sum(engaged_ms) OVER w > 0 THEN engaged_ms / sum(engaged_ms) OVER w END AS attention_share
FROM (
    SELECT user_key, item_id, event_date, max(topic) AS topic, count(*) FILTER (WHERE event_type = 'view') AS views,
           coalesce(sum(least(dwell_ms, 600000)) FILTER (WHERE event_type = 'view'), 0) AS engaged_ms,
           count(*) FILTER (WHERE event_type = 'like') AS likes,
           count(*) FILTER (WHERE event_type = 'share') AS shares,
           count(*) FILTER (WHERE event_type = 'comment') AS comments
    FROM events WHERE item_id IS NOT NULL GROUP BY user_key, item_id, event_date
)
WINDOW w AS (PARTITION BY user_key, event_date);

CREATE OR REPLACE TABLE user_daily AS
SELECT user_key, event_date, count(*) AS events, count(DISTINCT session_seq) AS sessions,
       count(*) FILTER (WHERE event_type = 'impression') AS impressions,
       count(*) FILTER (WHERE event_type = 'click') AS clicks, count(*) FILTER (WHERE event_type = 'view') AS views,
       coalesce(sum(least(dwell_ms, 600000)) FILTER (WHERE event_type = 'view'), 0) AS engaged_ms,
       count(*) FILTER (WHERE event_type = 'like') AS likes, count(*) FILTER (WHERE event_type = 'share') AS shares,
       count(*) FILTER (WHERE event_type = 'comment') AS comments,
       count(*) FILTER (WHERE event_type = 'search') AS searches,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases
FROM sessionised GROUP BY user_key, event_date;

CREATE OR REPLACE TABLE user_topic_daily AS
SELECT user_key, event_date, topic, count(*) AS views, sum(least(coalesce(dwell_ms, 0), 600000)) AS engaged_ms
FROM events WHERE event_type = 'view' AND topic IS NOT NULL GROUP BY user_key, event_date, topic;

CREATE OR REPLACE TABLE ad_daily AS
SELECT ad_id, stable_mode(campaign_id) AS campaign_id, event_date, count(*) AS impressions, sum(is_clicked) AS clicks
FROM impressions GROUP BY ad_id, event_date;

-- Point-in-time features: each impression of day D sees only days D-28 .. D-1.
CREATE OR REPLACE TABLE ctr_training AS
WITH user_days AS (SELECT DISTINCT user_key, event_date AS feature_date FROM impressions),
user_ad AS (
    SELECT d.user_key, d.feature_date, sum(i.impressions) AS impressions, sum(i.clicks) AS clicks
    FROM user_days d
    JOIN (SELECT user_key, event_date, count(*) AS impressions, sum(is_clicked) AS clicks
          FROM impressions GROUP BY ALL) i
      ON i.user_key = d.user_key AND i.event_date < d.feature_date AND i.event_date >= d.feature_date - 28
    GROUP BY ALL
),
user_hist AS (
    SELECT d.user_key, d.feature_date, sum(a.views) AS views, sum(a.engaged_ms) AS engaged_ms,
           sum(a.sessions) AS sessions, count(*) AS active_days
    FROM user_days d
    JOIN user_daily a ON a.user_key = d.user_key AND a.event_date < d.feature_date
     AND a.event_date >= d.feature_date - 28
    GROUP BY ALL
),
user_topics AS (
    SELECT *, engaged_ms / nullif(sum(engaged_ms) OVER (PARTITION BY user_key, feature_date), 0) AS share,
           row_number() OVER (PARTITION BY user_key, feature_date ORDER BY engaged_ms DESC, topic) AS topic_rank
    FROM (SELECT d.user_key, d.feature_date, t.topic, sum(t.engaged_ms) AS engaged_ms
          FROM user_days d
          JOIN user_topic_daily t ON t.user_key = d.user_key AND t.event_date < d.feature_date
           AND t.event_date >= d.feature_date - 28
          GROUP BY ALL)
),
ad_days AS (SELECT DISTINCT ad_id, campaign_id, event_date AS feature_date FROM impressions),
ad_hist AS (
    SELECT d.ad_id, d.feature_date, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks
    FROM ad_days d
    JOIN ad_daily p ON p.ad_id = d.ad_id AND p.event_date < d.feature_date AND p.event_date >= d.feature_date - 28
    GROUP BY ALL
),
campaign_hist AS (
    SELECT d.campaign_id, d.feature_date, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks
    FROM (SELECT DISTINCT campaign_id, feature_date FROM ad_days) d
    JOIN ad_daily p ON p.campaign_id = d.campaign_id AND p.event_date < d.feature_date
     AND p.event_date >= d.feature_date - 28
    GROUP BY ALL
)
SELECT i.impression_id, i.event_date, i.event_ts, i.is_clicked, i.ad_id, i.campaign_id, i.ad_topic, i.slot,
       i.device, i.network, i.geo, i.hour_of_day, i.day_of_week, i.propensity,
       coalesce(ua.impressions, 0) AS user_impressions_lookback, coalesce(ua.clicks, 0) AS user_clicks_lookback,
       (coalesce(ua.clicks, 0) + 1) / (coalesce(ua.impressions, 0) + 30) AS user_ctr_smoothed,
       coalesce(uh.views, 0) AS user_views_lookback, coalesce(uh.engaged_ms, 0) AS user_engaged_ms_lookback,
       coalesce(uh.sessions, 0) AS user_sessions_lookback, coalesce(uh.active_days, 0) AS user_active_days_lookback,
       coalesce(ts.share, 0) AS user_share_on_ad_topic, top.topic AS user_top_topic,
       coalesce(ah.impressions, 0) AS ad_impressions_lookback, coalesce(ah.clicks, 0) AS ad_clicks_lookback,
       (coalesce(ah.clicks, 0) + 1) / (coalesce(ah.impressions, 0) + 30) AS ad_ctr_smoothed,
       (coalesce(ch.clicks, 0) + 1) / (coalesce(ch.impressions, 0) + 30) AS campaign_ctr_smoothed
FROM impressions i
LEFT JOIN user_hist uh ON uh.user_key = i.user_key AND uh.feature_date = i.event_date
LEFT JOIN user_ad ua ON ua.user_key = i.user_key AND ua.feature_date = i.event_date
LEFT JOIN user_topics ts ON ts.user_key = i.user_key AND ts.feature_date = i.event_date AND ts.topic = i.ad_topic
LEFT JOIN user_topics top ON top.user_key = i.user_key AND top.feature_date = i.event_date AND top.topic_rank = 1
LEFT JOIN ad_hist ah ON ah.ad_id = i.ad_id AND ah.feature_date = i.event_date
LEFT JOIN campaign_hist ch ON ch.campaign_id = i.campaign_id AND ch.feature_date = i.event_date;

-- Comments with their latest human label.
CREATE OR REPLACE TABLE comments AS
WITH labels AS (
    SELECT trim(event_id) AS comment_id, lower(trim(label)) AS label, try_cast(annotated_at AS TIMESTAMPTZ) AS annotated_at
    FROM read_csv({annotations}, all_varchar = true, header = true, union_by_name = true)
    WHERE nullif(trim(event_id), '') IS NOT NULL AND nullif(trim(label), '') IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY trim(event_id) ORDER BY try_cast(annotated_at AS TIMESTAMPTZ) DESC NULLS LAST,
                                                                  annotator_id) = 1
)
SELECT e.event_id AS comment_id, e.event_ts, e.event_date, e.user_key, e.item_id, e.campaign_id, e.topic AS item_topic,
       e.text_masked AS comment_text, length(e.text_masked) AS text_length,
       len(string_split(trim(e.text_masked), ' ')) AS word_count, l.label, l.annotated_at
FROM events e LEFT JOIN labels l ON l.comment_id = e.event_id
WHERE e.event_type = 'comment';

-- Profiles and dimensions over all history (here: the day).
CREATE OR REPLACE TABLE user_topic_interests AS
SELECT *, engaged_ms / nullif(sum(engaged_ms) OVER (PARTITION BY user_key), 0) AS attention_share,
       row_number() OVER (PARTITION BY user_key ORDER BY engaged_ms DESC, topic) AS interest_rank
FROM (SELECT user_key, topic, sum(views) AS views, sum(engaged_ms) AS engaged_ms FROM user_topic_daily GROUP BY ALL);

CREATE OR REPLACE TABLE users AS
WITH activity AS (
    SELECT user_key, min(event_date) AS first_seen_date, max(event_date) AS last_seen_date, count(*) AS active_days,
           sum(events) AS events, sum(sessions) AS sessions, sum(impressions) AS impressions, sum(clicks) AS clicks,
           sum(views) AS views, sum(engaged_ms) AS engaged_ms, sum(likes) AS likes, sum(shares) AS shares,
           sum(comments) AS comments, sum(purchases) AS purchases
    FROM user_daily GROUP BY user_key
),
context_mix AS (
    SELECT user_key,
           count(*) FILTER (WHERE device = 'ios') / count(*) AS share_ios,
           count(*) FILTER (WHERE device = 'android') / count(*) AS share_android,
           count(*) FILTER (WHERE device = 'web') / count(*) AS share_web,
           count(*) FILTER (WHERE network = '5g') / count(*) AS share_5g,
           count(*) FILTER (WHERE network = '4g') / count(*) AS share_4g,
           count(*) FILTER (WHERE network = 'wifi') / count(*) AS share_wifi,
           stable_mode(geo) AS main_geo
    FROM events GROUP BY user_key
)
SELECT a.*, a.clicks / nullif(a.impressions, 0) AS ctr, t.topic AS top_topic, t.attention_share AS top_topic_share,
       m.share_ios, m.share_android, m.share_web, m.share_5g, m.share_4g, m.share_wifi, m.main_geo
FROM activity a
LEFT JOIN user_topic_interests t ON t.user_key = a.user_key AND t.interest_rank = 1
LEFT JOIN context_mix m ON m.user_key = a.user_key;

CREATE OR REPLACE TABLE items AS
SELECT item_id, stable_mode(topic) AS topic, min(event_date) AS first_seen_date, max(event_date) AS last_seen_date,
       sum(views) AS views, count(DISTINCT user_key) AS unique_users, sum(engaged_ms) AS engaged_ms,
       sum(engaged_ms) / nullif(sum(views), 0) AS avg_engaged_ms_per_view, sum(likes) AS likes,
       sum(shares) AS shares, sum(comments) AS comments
FROM daily_attention GROUP BY item_id;

CREATE OR REPLACE TABLE ads AS
SELECT *, clicks / nullif(impressions, 0) AS ctr
FROM (SELECT ad_id, stable_mode(campaign_id) AS campaign_id, stable_mode(ad_topic) AS topic,
             min(event_date) AS first_served_date, max(event_date) AS last_served_date, count(*) AS impressions,
             sum(is_clicked) AS clicks
      FROM impressions GROUP BY ad_id);
