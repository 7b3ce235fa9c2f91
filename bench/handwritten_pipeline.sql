-- The bar attnflow's orchestration is measured against: the core transformations of the dbt project written as
-- one DuckDB script over the same landing files (no quarantine bookkeeping, no tests, no orchestration).
-- {files} is replaced by the bench script with the day's JSON Lines files.
SET TimeZone = 'UTC';

CREATE OR REPLACE TABLE events AS
SELECT * FROM read_json({files}, format = 'newline_delimited', ignore_errors = true,
    columns = {event_id: 'VARCHAR', event_ts: 'TIMESTAMPTZ', event_type: 'VARCHAR', user_id: 'VARCHAR',
               item_id: 'VARCHAR', ad_id: 'VARCHAR', campaign_id: 'VARCHAR', slot: 'INTEGER',
               request_id: 'VARCHAR', device: 'VARCHAR', network: 'VARCHAR', geo: 'VARCHAR',
               dwell_ms: 'BIGINT', "text": 'VARCHAR', properties: 'JSON'})
WHERE event_id IS NOT NULL AND user_id IS NOT NULL AND event_ts IS NOT NULL
  AND event_type IN ('impression', 'click', 'view', 'like', 'share', 'comment', 'search', 'purchase')
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_ts) = 1;

CREATE OR REPLACE TABLE sessionised AS
WITH gaps AS (
    SELECT *, CASE WHEN event_ts - lag(event_ts) OVER w > INTERVAL 30 MINUTE OR lag(event_ts) OVER w IS NULL
                   THEN 1 ELSE 0 END AS starts_session
    FROM events WINDOW w AS (PARTITION BY user_id ORDER BY event_ts, event_id)
)
SELECT *, sum(starts_session) OVER (PARTITION BY user_id ORDER BY event_ts, event_id) AS session_seq FROM gaps;

CREATE OR REPLACE TABLE impressions AS
SELECT i.event_id, i.user_id, i.ad_id, i.slot, CAST(i.event_ts AS DATE) AS event_date,
       CASE WHEN c.request_id IS NULL THEN 0 ELSE 1 END AS is_clicked
FROM events i
LEFT JOIN (SELECT request_id, min(event_ts) AS clicked_at FROM events WHERE event_type = 'click'
           GROUP BY request_id) c
  ON c.request_id = i.request_id AND c.clicked_at BETWEEN i.event_ts AND i.event_ts + INTERVAL 30 MINUTE
WHERE i.event_type = 'impression';

CREATE OR REPLACE TABLE daily_attention AS
SELECT user_id, item_id, CAST(event_ts AS DATE) AS event_date, count(*) AS views,
       sum(least(dwell_ms, 600000)) AS engaged_ms
FROM events WHERE event_type = 'view' GROUP BY ALL;

CREATE OR REPLACE TABLE user_daily AS
SELECT user_id, CAST(event_ts AS DATE) AS event_date, count(*) AS events,
       count(DISTINCT session_seq) AS sessions, count(*) FILTER (WHERE event_type = 'impression') AS impressions
FROM sessionised GROUP BY ALL;
