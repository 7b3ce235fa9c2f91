"""Generated comments as a training table, without running the pipeline (tests, benchmarks, experiments).

Reads what ml.synthetic wrote: the comment events from the landing files (text, user, timestamp, item, topic)
and the day's truth (true_sentiment, the annotation if any, whether it is wrong). Gives one row per comment in
the shape of marts.fct_comments: comment_id, event_ts, event_date, user_id, item_id, item_topic, text, label
(NULL when not annotated), plus true_sentiment and label_is_noisy. Duplicate deliveries are dropped; malformed
lines are skipped.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pandas as pd


def _comment_events(landing_dir: Path) -> pd.DataFrame:
    records = []
    for path in sorted((landing_dir / "events").glob("dt=*/*")):
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            records.extend(frame[frame["event_type"] == "comment"].to_dict("records"))
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"comment"' not in line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(event, dict) and event.get("event_type") == "comment":
                    records.append(event)
    if not records:
        return pd.DataFrame(columns=["event_id", "event_ts", "user_id", "item_id", "text", "properties"])
    return pd.DataFrame.from_records(records)


def load_generated_comments(landing_dir: Path | str, truth_dir: Path | str) -> pd.DataFrame:
    """One row per generated comment (see the module docstring), ordered by event time."""
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    events = _comment_events(landing_dir)
    events = events.dropna(subset=["event_id", "event_ts"]).drop_duplicates("event_id")
    truth = pd.concat([pd.read_parquet(p) for p in sorted(truth_dir.glob("dt=*/comments.parquet"))],
                      ignore_index=True).drop_duplicates("event_id")
    frame = events.merge(truth, on="event_id", how="inner")
    ts = pd.to_datetime(frame["event_ts"], utc=True, format="ISO8601")
    topic = frame["properties"].map(lambda p: p.get("topic") if isinstance(p, dict) else None) \
        if "properties" in frame else None
    out = pd.DataFrame({
        "comment_id": frame["event_id"], "event_ts": ts, "event_date": ts.dt.date,
        "user_id": frame["user_id"], "item_id": frame.get("item_id"), "item_topic": topic,
        "text": frame["text"], "label": frame["annotated_label"], "true_sentiment": frame["true_sentiment"],
        "label_is_noisy": frame["label_is_noisy"],
    })
    return out.sort_values(["event_ts", "comment_id"], kind="stable").reset_index(drop=True)


def generated_comments(work_dir: Path | str, start: dt.date = dt.date(2026, 3, 1), days: int = 4,
                       events_per_day: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """Generate `days` days under work_dir (landing/ and truth/) and return load_generated_comments. About
    1.8% of events are comments and ~25% of those are annotated: 20k events/day give ~90 labelled comments."""
    from ml.synthetic import generate_days

    work_dir = Path(work_dir)
    generate_days(start, days, work_dir / "landing", work_dir / "truth", events_per_day=events_per_day, seed=seed)
    return load_generated_comments(work_dir / "landing", work_dir / "truth")
