"""Offline evaluation on a time split: the recommender against popularity, random and (when known) the truth.

Every ranker gets the same users (those active on the test day), the same candidate items (the training
catalogue: no method can recommend an item it has never seen) and the same exclusions (items in the user's
training history when `exclude_seen`). Relevant items are the catalogue items the user interacted with on the test
day, minus the excluded ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .interactions import Index, user_item_matrix
from .metrics import ranking_metrics, top_share_items
from .ranking import rank_in_batches
from .recommender import MODEL_REASON, Recommender
from .split import TimeSplit

# (user keys, item keys) -> (users, items) true preference scores; higher = more likely to be consumed.
Oracle = Callable[[np.ndarray, np.ndarray], np.ndarray]


def evaluate_recommender(recommender: Recommender, split: TimeSplit, oracle: Oracle | None = None,
                         seed: int = 0) -> dict:
    config = recommender.config
    k, items = config.k, recommender.items
    users = Index(np.sort(split.test["user"].unique()))
    ranking = recommender.rank(split.train, users.keys, k)
    seen = ranking.seen if config.exclude_seen else None
    relevant = relevant_items(split, users, items)
    if seen is not None:
        relevant = (relevant - relevant.multiply(seen > 0)).tocsr()  # drop the excluded (seen) items
        relevant.eliminate_zeros()

    train_counts = np.bincount(items.positions(split.train["item"].to_numpy()), minlength=len(items))
    popular = top_share_items(train_counts)

    def metrics(positions: np.ndarray, rows: np.ndarray | None = None) -> dict:
        if rows is not None:
            positions, rel = positions[rows], relevant[rows]
        else:
            rel = relevant
        return ranking_metrics(positions, rel, popular, len(items))

    rng = np.random.default_rng(seed)
    popularity_row = recommender.popularity.global_scores
    rankers = {
        "popularity": lambda rows: np.broadcast_to(popularity_row, (len(rows), len(items))),
        "random": lambda rows: rng.random((len(rows), len(items))),
    }
    if oracle is not None:
        rankers["oracle"] = lambda rows: oracle(users.keys[rows], items.keys)

    results = {"model": metrics(ranking.positions)}
    for name, score_rows in rankers.items():
        results[name] = metrics(rank_in_batches(score_rows, len(users), k, seen)[0])
    warm = ranking.reasons == MODEL_REASON
    by_reason = {"model (warm users)": metrics(ranking.positions, np.flatnonzero(warm)),
                 "fallback (cold users)": metrics(ranking.positions, np.flatnonzero(~warm))}
    return {"rankers": results, "model_by_reason": by_reason,
            "test_users": len(users), "cold_test_users": int((~warm).sum()),
            "new_test_users": int((~pd.Index(users.keys).isin(split.train["user"].unique())).sum())}


def relevant_items(split: TimeSplit, users: Index, items: Index) -> sp.csr_matrix:
    """Binary users x items matrix of test-day interactions (catalogue items only)."""
    return (user_item_matrix(split.test, users, items) > 0).astype(np.int8).tocsr()
