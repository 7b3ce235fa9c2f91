"""The served recommender: ALS item factors from the `implicit` package plus the popularity fallback.

Users are always folded in from their current history (implicit's `recalculate_user`: the exact least-squares
user factors given the item factors, which is what an ALS user step computes), so one code path serves users
seen at training, users whose history grew since, and users new since training. Users with fewer than
`min_user_items` distinct catalogue items get their interest segment's popularity list instead; users with no
catalogue item at all get the global list. Items new since training have no factors and are not recommended
until the next training (the model retrains daily).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .config import RecommenderConfig
from .interactions import Index, user_item_matrix
from .popularity import PopularityModel, user_segments
from .ranking import BATCH_USERS, top_k

MODEL_REASON = "model"


@dataclass
class Ranking:
    """Top-k lists for `users` (positions into the catalogue, -1 = no item) with their scores and reasons."""

    users: Index
    positions: np.ndarray
    scores: np.ndarray
    reasons: np.ndarray  # one per user
    seen: sp.csr_matrix  # the users' histories over the catalogue (for evaluation: what was excluded)


class Recommender:
    def __init__(self, als, items: Index, item_topics: np.ndarray | None, popularity: PopularityModel,
                 config: RecommenderConfig):
        self.als = als
        self.items = items
        self.item_topics = item_topics
        self.popularity = popularity
        self.config = config

    @classmethod
    def fit(cls, train: pd.DataFrame, config: RecommenderConfig) -> "Recommender":
        """Factorise the users x items attention matrix of `train` (canonical interactions)."""
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        if train.empty:
            raise ValueError("no interactions to train on")
        users = Index(np.sort(train["user"].unique()))
        items = Index(np.sort(train["item"].unique()))
        matrix = user_item_matrix(train, users, items)
        with threadpool_limits(1, "blas"):  # implicit parallelises itself; nested BLAS threads only slow it down
            als = AlternatingLeastSquares(factors=config.factors, regularization=config.regularization,
                                          alpha=config.alpha, iterations=config.iterations,
                                          random_state=config.random_state)
            als.fit(matrix, show_progress=False)
        topics = item_topic_array(train, items)
        popularity = PopularityModel.fit(train, items, topics, config.popularity_half_life_days,
                                         config.min_segment_users)
        return cls(als, items, topics, popularity, config)

    # ---- ranking ----------------------------------------------------------------------------------------------

    def rank(self, history: pd.DataFrame, users, k: int | None = None) -> Ranking:
        """Top-k for each of `users` given their interactions so far (`history`, canonical; other users' rows are
        ignored). Seen items are excluded when the config says so."""
        from threadpoolctl import threadpool_limits

        k = k or self.config.k
        users = Index(users)
        history = history[history["user"].isin(set(users.keys.tolist()))]
        matrix = user_item_matrix(history, users, self.items)
        distinct_items = np.diff(matrix.indptr)
        warm = np.flatnonzero(distinct_items >= self.config.min_user_items)
        segments = user_segments(history, self.items, self.item_topics) if self.item_topics is not None else {}
        reasons = np.empty(len(users), dtype=object)
        positions = np.full((len(users), k), -1, dtype=np.int64)
        scores = np.full((len(users), k), -np.inf)
        seen = matrix if self.config.exclude_seen else None

        with threadpool_limits(1, "blas"):
            for start in range(0, len(warm), BATCH_USERS):
                rows = warm[start:start + BATCH_USERS]
                factors = self.als.recalculate_user(np.arange(len(rows)), matrix[rows])
                row_scores = factors @ self.als.item_factors.T
                positions[rows], scores[rows] = top_k(row_scores, k, seen[rows] if seen is not None else None)
        reasons[warm] = MODEL_REASON

        cold = np.setdiff1d(np.arange(len(users)), warm)
        cold_segments = np.array([segments.get(u) if distinct_items[i] else None
                                  for i, u in zip(cold, users.keys[cold])], dtype=object)
        for segment in pd.unique(cold_segments):
            rows = cold[cold_segments == segment] if segment is not None else cold[pd.isna(cold_segments)]
            row_scores, reason = self.popularity.scores(segment)
            tiled = np.broadcast_to(row_scores, (len(rows), len(row_scores)))
            for start in range(0, len(rows), BATCH_USERS):
                part = rows[start:start + BATCH_USERS]
                positions[part], scores[part] = top_k(tiled[:len(part)], k, seen[part] if seen is not None else None)
            reasons[rows] = reason
        return Ranking(users, positions, scores, reasons, matrix)

    def recommend(self, history: pd.DataFrame, users, k: int | None = None) -> pd.DataFrame:
        """Long table: user, rank (1 = best), item, score, reason. A user whose catalogue is exhausted by their
        history gets a shorter list (never a duplicate or an unknown item)."""
        ranking = self.rank(history, users, k)
        n_users, width = ranking.positions.shape
        filled = ranking.positions >= 0
        user_rows, ranks = np.nonzero(filled)
        return pd.DataFrame({
            "user": ranking.users.keys[user_rows],
            "rank": (ranks + 1).astype(np.int32),
            "item": self.items.keys[ranking.positions[filled]],
            "score": ranking.scores[filled],
            "reason": ranking.reasons[user_rows],
        })

    # ---- persistence ------------------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.als.save(str(folder / "als.npz"))
        self.popularity.save(folder / "popularity.npz")
        catalogue = pd.DataFrame({"item": self.items.keys.astype(str),
                                  "topic": self.item_topics if self.item_topics is not None else None})
        catalogue.to_parquet(folder / "catalogue.parquet", index=False)
        (folder / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> "Recommender":
        from implicit.cpu.als import AlternatingLeastSquares

        als = AlternatingLeastSquares.load(str(folder / "als.npz"))
        catalogue = pd.read_parquet(folder / "catalogue.parquet")
        topics = catalogue["topic"].to_numpy(dtype=object) if catalogue["topic"].notna().any() else None
        config = RecommenderConfig.from_dict(json.loads((folder / "config.json").read_text()))
        return cls(als, Index(catalogue["item"]), topics, PopularityModel.load(folder / "popularity.npz"), config)


def item_topic_array(frame: pd.DataFrame, items: Index) -> np.ndarray | None:
    """Each catalogue item's topic (its most frequent one), or None when the interactions carry no topic."""
    if "topic" not in frame or frame["topic"].isna().all():
        return None
    counts = frame.dropna(subset=["topic"]).groupby(["item", "topic"]).size().reset_index(name="n")
    top = counts.sort_values(["item", "n", "topic"], ascending=[True, False, True]).drop_duplicates("item")
    topics = np.full(len(items), None, dtype=object)
    topics[items.positions(top["item"].to_numpy())] = top["topic"].astype(str).to_numpy()
    return topics
