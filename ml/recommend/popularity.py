"""The cold-start model: what is popular lately, overall and within each interest segment.

A user's interest segment is the topic that holds most of their attention. Popularity counts each (user, item,
day) once, decayed by age (half-life in RecommenderConfig), so a burst of yesterday's hits outranks last week's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .interactions import Index

GLOBAL = "global"


@dataclass
class PopularityModel:
    global_scores: np.ndarray  # (items,) decayed popularity, aligned with the catalogue
    segment_scores: dict[str, np.ndarray]  # segment -> (items,) popularity among that segment's users

    @classmethod
    def fit(cls, frame: pd.DataFrame, items: Index, item_topics: np.ndarray | None, half_life_days: float,
            min_segment_users: int) -> "PopularityModel":
        age = (frame["day"].max() - frame["day"]).dt.days.to_numpy(dtype=np.float64)
        weight = 0.5 ** (age / half_life_days)
        positions = items.positions(frame["item"].to_numpy())
        known = positions >= 0
        global_scores = np.bincount(positions[known], weights=weight[known], minlength=len(items))
        segment_scores: dict[str, np.ndarray] = {}
        if item_topics is not None:
            segments = user_segments(frame, items, item_topics)
            user_segment = frame["user"].map(segments).to_numpy()
            for segment, users in pd.Series(segments).groupby(pd.Series(segments)).groups.items():
                if len(users) < min_segment_users:
                    continue
                rows = known & (user_segment == segment)
                segment_scores[str(segment)] = np.bincount(positions[rows], weights=weight[rows],
                                                           minlength=len(items))
        return cls(global_scores, segment_scores)

    def scores(self, segment: str | None) -> tuple[np.ndarray, str]:
        """Score row for a user of `segment` and the reason served with it."""
        if segment is not None and segment in self.segment_scores:
            return self.segment_scores[segment], f"segment_popularity:{segment}"
        return self.global_scores, f"{GLOBAL}_popularity"

    def save(self, path: Path) -> None:
        np.savez(path, global_scores=self.global_scores,
                 **{f"segment__{name}": scores for name, scores in self.segment_scores.items()})

    @classmethod
    def load(cls, path: Path) -> "PopularityModel":
        with np.load(path) as data:
            segments = {name.removeprefix("segment__"): data[name] for name in data.files if name.startswith("segment__")}
            return cls(data["global_scores"], segments)


def user_segments(frame: pd.DataFrame, items: Index, item_topics: np.ndarray) -> dict[str, str]:
    """Each user's top topic by attention over the catalogue items in `frame` (ties: alphabetical). Users whose
    items are all unknown or have no topic get no segment."""
    positions = items.positions(frame["item"].to_numpy())
    known = positions >= 0
    topics = pd.Series(item_topics[positions[known]], dtype="object")
    per_topic = pd.DataFrame({"user": frame["user"].to_numpy()[known], "topic": topics.to_numpy(),
                              "attention": frame["attention"].to_numpy()[known] + 1e-9}).dropna(subset=["topic"])
    if per_topic.empty:
        return {}
    totals = per_topic.groupby(["user", "topic"], sort=True)["attention"].sum().reset_index()
    totals = totals.sort_values(["user", "attention", "topic"], ascending=[True, False, True], kind="stable")
    top = totals.drop_duplicates("user")
    return dict(zip(top["user"], top["topic"].astype(str)))
