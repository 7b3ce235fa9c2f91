"""Interactions in one shape, whatever their source: one row per (user, item, day) with an attention score.

Columns: `user`, `item` (strings), `day` (datetime64, midnight UTC), `attention` (>= 0, engaged-minute equivalents, see
AttentionWeights) and optionally `topic` (the item's category, used for interest segments).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .config import AttentionWeights

COLUMNS = ["user", "item", "day", "attention"]


def interactions_from_attention(daily_attention: pd.DataFrame, weights: AttentionWeights) -> pd.DataFrame:
    """From attnflow's marts.fct_daily_attention rows (user_key, item_id, event_date, topic, engaged_ms, likes,
    comments, shares)."""
    frame = daily_attention
    attention = (weights.engaged_minute * frame["engaged_ms"].fillna(0) / 60_000.0
                 + weights.like * frame["likes"].fillna(0) + weights.comment * frame["comments"].fillna(0)
                 + weights.share * frame["shares"].fillna(0))
    out = pd.DataFrame({"user": frame["user_key"].astype(str), "item": frame["item_id"].astype(str),
                        "day": pd.to_datetime(frame["event_date"]).dt.normalize(), "attention": attention.astype(float)})
    if "topic" in frame:
        out["topic"] = frame["topic"].astype("string")
    return _checked(out, "fct_daily_attention")


def interactions_from_events(events: pd.DataFrame, user: str = "user", item: str = "item", timestamp: str = "timestamp",
                             weight: str | None = None) -> pd.DataFrame:
    """From a plain interaction log that did not come from attnflow (one row per event: user, item, timestamp and
    an optional weight, e.g. a rating or a play count; without one every event counts 1). Timestamps are ISO
    strings or Unix seconds; days are UTC. Rows are summed per (user, item, day)."""
    wanted = [user, item, timestamp] + ([weight] if weight else [])
    missing = [c for c in wanted if c not in events.columns]
    if missing:
        raise ValueError(f"interactions: missing column(s) {missing}; found {list(events.columns)}")
    bad = events[wanted].isna().any(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
        raise ValueError(f"interactions: {int(bad.sum())} row(s) with an empty {wanted} value (first rows {rows}); "
                         "fix or drop them before training")
    stamps = events[timestamp]
    unit = "s" if pd.api.types.is_numeric_dtype(stamps) else None
    day = pd.to_datetime(stamps, unit=unit, utc=True, errors="coerce")
    if day.isna().any():
        rows = np.flatnonzero(day.isna().to_numpy())[:5].tolist()
        raise ValueError(f"interactions: {int(day.isna().sum())} unparseable timestamp(s) in {timestamp!r} "
                         f"(first rows {rows})")
    frame = pd.DataFrame({"user": events[user].astype(str), "item": events[item].astype(str),
                          "day": day.dt.tz_localize(None).dt.normalize(),
                          "attention": events[weight].astype(float) if weight else 1.0})
    _checked(frame, "interactions")  # per event, before a sum could hide a negative weight
    return frame.groupby(["user", "item", "day"], as_index=False, sort=True)["attention"].sum()


def read_table(path: Path) -> pd.DataFrame:
    """CSV, Parquet or JSON Lines (optionally gzip), by file name."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return pd.read_json(path, lines=True)
    if name.endswith((".csv", ".csv.gz", ".tsv")):
        return pd.read_csv(path, sep="\t" if name.endswith(".tsv") else ",")
    raise ValueError(f"{path}: unsupported file type (use .csv, .tsv, .parquet or .jsonl)")


def _checked(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    negative = frame["attention"] < 0
    if negative.any():
        raise ValueError(f"{source}: {int(negative.sum())} interaction(s) with negative weight; implicit feedback "
                         "needs weights >= 0")
    return frame.reset_index(drop=True)


class Index:
    """Dense integer ids for string keys (users or items), in a fixed order."""

    def __init__(self, keys):
        self.keys = np.asarray(list(keys), dtype=object)
        self._categories = pd.Index(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def positions(self, keys) -> np.ndarray:
        """Position of each key, -1 when unknown."""
        return self._categories.get_indexer(pd.Index(np.asarray(keys, dtype=object))).astype(np.int64)


def user_item_matrix(frame: pd.DataFrame, users: Index, items: Index) -> sp.csr_matrix:
    """Users x items matrix of log1p(total attention); interactions with unknown users or items are left out (the
    caller decides what unknown means). Every interaction counts as observed, even one of zero attention (a view
    with no dwell): it gets a small floor so the solver still sees it."""
    u = users.positions(frame["user"].to_numpy())
    i = items.positions(frame["item"].to_numpy())
    known = (u >= 0) & (i >= 0)
    attention = frame["attention"].to_numpy(dtype=np.float64)[known]
    matrix = sp.csr_matrix((attention, (u[known], i[known])), shape=(len(users), len(items)), dtype=np.float64)
    matrix.sum_duplicates()  # total attention per (user, item) over the days
    matrix.data = np.maximum(np.log1p(matrix.data), 0.05)
    return matrix.astype(np.float32)
