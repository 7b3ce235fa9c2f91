"""Usage features over a window of days before a point in time: the same code for training and scoring.

Input is `marts.fct_user_daily_usage` (one row per user and active day). A training row is a survey answer on day
D described by the window ending the day *before* D (the answer cannot leak into its features); a score on day D
uses the window ending on D. Days without activity count as zero minutes, so a quiet user looks quiet.
"""

from __future__ import annotations

import duckdb
import pandas as pd

# Model inputs. Segment columns (device, country) are deliberately not features: they are used only to compare
# error rates between groups.
FEATURES = (
    "active_days", "mean_daily_minutes", "max_daily_minutes", "sessions_per_day", "longest_session_minutes",
    "mean_longest_session_minutes", "late_night_share", "late_night_days", "max_day_streak", "current_day_streak",
    "top_topic_share", "trend_vs_baseline",
)
RULE_FEATURE = "mean_daily_minutes"  # the baseline rule: more daily minutes, more risk
DAILY_COLUMNS = ("user_key", "event_date", "active_minutes", "sessions", "longest_session_minutes",
                 "late_night_sessions", "day_streak", "top_topic_share", "minutes_vs_baseline", "main_device")


def window_features(daily: pd.DataFrame, anchors: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """For each anchor row (user_key, as_of_date, any other columns kept as they are), the usage of the user over
    the `window_days` days ending on as_of_date, one row per anchor in the anchors' order."""
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    missing = [c for c in DAILY_COLUMNS if c not in daily.columns]
    if missing:
        raise ValueError(f"daily usage lacks columns {missing}")
    con = duckdb.connect()
    try:
        con.register("daily", daily[list(DAILY_COLUMNS)])
        con.register("anchors", anchors.reset_index(drop=True).assign(_anchor=range(len(anchors))))
        features = con.execute(f"""
            SELECT a._anchor,
                count(d.event_date) AS active_days,
                coalesce(sum(d.active_minutes), 0) / {window_days} AS mean_daily_minutes,
                coalesce(max(d.active_minutes), 0) AS max_daily_minutes,
                coalesce(sum(d.sessions), 0) / {window_days} AS sessions_per_day,
                coalesce(max(d.longest_session_minutes), 0) AS longest_session_minutes,
                coalesce(avg(d.longest_session_minutes), 0) AS mean_longest_session_minutes,
                coalesce(sum(d.late_night_sessions) / nullif(sum(d.sessions), 0), 0) AS late_night_share,
                count(*) FILTER (WHERE d.late_night_sessions > 0) AS late_night_days,
                coalesce(max(d.day_streak), 0) AS max_day_streak,
                coalesce(max(d.day_streak) FILTER (WHERE d.event_date = a.as_of_date), 0) AS current_day_streak,
                sum(d.top_topic_share * d.active_minutes) / nullif(sum(d.active_minutes), 0) AS top_topic_share,
                avg(d.minutes_vs_baseline) AS trend_vs_baseline,
                mode(d.main_device) AS main_device
            FROM anchors a
            LEFT JOIN daily d ON d.user_key = a.user_key
                AND d.event_date BETWEEN CAST(a.as_of_date AS DATE) - INTERVAL {window_days - 1} DAY
                                     AND CAST(a.as_of_date AS DATE)
            GROUP BY a._anchor ORDER BY a._anchor
        """).df()
    finally:
        con.close()
    out = anchors.reset_index(drop=True).copy()
    for column in features.columns.drop("_anchor"):
        out[column] = features[column].to_numpy()
    return out


def training_rows(daily: pd.DataFrame, surveys: pd.DataFrame, window_days: int,
                  first_full_day=None) -> pd.DataFrame:
    """Survey answers (user_key, survey_date, is_at_risk, ...) with the features of the window ending the day
    before each answer. Answers whose window starts before `first_full_day` (the first day the warehouse holds
    whole) are left out: their usage history is cut short, not low."""
    anchors = surveys.assign(as_of_date=pd.to_datetime(surveys["survey_date"]) - pd.Timedelta(days=1))
    if first_full_day is not None:
        window_start = anchors["as_of_date"] - pd.Timedelta(days=window_days - 1)
        anchors = anchors[window_start >= pd.Timestamp(first_full_day)]
    anchors = anchors.assign(as_of_date=anchors["as_of_date"].dt.date)
    return window_features(daily, anchors, window_days)
