"""Daily sentiment shares per item / campaign and a surge detector: is today's share of a label (negative, by
default) for this key far above what the same key usually gets?

The baseline of a key is its own share over the trailing `baseline_days`, shrunk toward the share over all keys
of the same grain in those days (`prior_strength` pseudo-comments), so a key with little history is compared
with the platform rather than with three comments. A surge needs all three: enough comments today
(`min_comments`; the baseline window needs as many over all keys), an absolute rise of at least `min_lift`, and a rise of at least `z_threshold` binomial
standard errors at today's volume. Plain pandas, no Dagster: the asset and the tests share it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

KEY_COLUMNS = ["grain", "key", "label"]
COUNT_COLUMNS = ["event_date", *KEY_COLUMNS, "comments", "label_comments"]


@dataclass(frozen=True)
class SurgeRule:
    baseline_days: int = 7
    min_comments: int = 20
    min_lift: float = 0.15
    z_threshold: float = 3.0
    prior_strength: float = 20.0

    def to_dict(self) -> dict:
        return asdict(self)


def daily_label_counts(scored: pd.DataFrame, labels: list[str], grains: dict[str, str]) -> pd.DataFrame:
    """Scored comments (event_date, predicted_label and one column per grain) -> one row per day, grain, key and
    label with the day's comments of that key and how many of them carry the label (zeros included, so a share
    is never missing for a label nobody used that day). grains: grain name -> column, e.g. {"item": "item_id"};
    rows whose key is NULL (an organic item has no campaign) are not counted for that grain. Unscored comments
    (no predicted label) are not counted."""
    _require(scored, ["event_date", "predicted_label", *grains.values()], "scored comments")
    scored = scored[scored["predicted_label"].notna()]
    parts = []
    for grain, column in grains.items():
        rows = scored[scored[column].notna()]
        if rows.empty:
            continue
        counts = (pd.crosstab([rows["event_date"], rows[column].astype(str)], rows["predicted_label"])
                  .reindex(columns=labels, fill_value=0))
        totals = counts.sum(axis=1)
        long = counts.stack().rename("label_comments").reset_index()
        long.columns = ["event_date", "key", "label", "label_comments"]
        long["comments"] = totals.reindex(pd.MultiIndex.from_frame(long[["event_date", "key"]])).to_numpy()
        long["grain"] = grain
        parts.append(long)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COUNT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)[COUNT_COLUMNS]
    out[["comments", "label_comments"]] = out[["comments", "label_comments"]].astype("int64")
    return out.sort_values(["event_date", *KEY_COLUMNS], ignore_index=True)


def detect_surges(counts: pd.DataFrame, rule: SurgeRule = SurgeRule()) -> pd.DataFrame:
    """Add share, baseline_share, lift, z_score and is_surge to daily_label_counts' rows. Each day is compared
    with the `baseline_days` before it, so pass those days too (their own rows come back with baselines from
    further back, which may be missing: they simply cannot be surges)."""
    _require(counts, COUNT_COLUMNS, "daily label counts")
    out = counts.copy()
    out["event_date"] = pd.to_datetime(out["event_date"]).dt.normalize()
    out["share"] = out["label_comments"] / out["comments"].where(out["comments"] > 0)
    baseline_share = np.full(len(out), np.nan)
    for day in out["event_date"].unique():
        today = (out["event_date"] == day).to_numpy()
        window = out[(out["event_date"] < day)
                     & (out["event_date"] >= day - pd.Timedelta(days=rule.baseline_days))]
        if window.empty:
            continue
        own = window.groupby(KEY_COLUMNS)[["comments", "label_comments"]].sum()
        overall = window.groupby(["grain", "label"])[["comments", "label_comments"]].sum()
        # Too few comments over all keys in the window (e.g. only the late tail of the day before the first
        # landed day) is no baseline at all.
        overall_share = overall["label_comments"] / overall["comments"].where(overall["comments"] >= rule.min_comments)
        rows = out[today]
        key_index = pd.MultiIndex.from_frame(rows[KEY_COLUMNS])
        own_comments = own["comments"].reindex(key_index).fillna(0).to_numpy()
        own_label = own["label_comments"].reindex(key_index).fillna(0).to_numpy()
        prior = overall_share.reindex(pd.MultiIndex.from_frame(rows[["grain", "label"]])).to_numpy()
        baseline_share[today] = (own_label + rule.prior_strength * prior) / (own_comments + rule.prior_strength)
    out["baseline_share"] = baseline_share
    out["lift"] = out["share"] - out["baseline_share"]
    spread = np.sqrt(out["baseline_share"] * (1 - out["baseline_share"]) / out["comments"].where(out["comments"] > 0))
    out["z_score"] = out["lift"] / spread  # a zero baseline makes any rise infinitely unlikely: inf
    out["is_surge"] = ((out["comments"] >= rule.min_comments) & (out["lift"] >= rule.min_lift)
                       & (out["z_score"] >= rule.z_threshold)).fillna(False).astype(bool)
    out["event_date"] = out["event_date"].dt.date
    return out


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lack the columns {missing}")
