"""Offline ranking metrics, as recommender-systems papers define them (binary relevance).

For a user with relevant set R and list L of length K: recall@K = |L ∩ R| / |R|; NDCG@K = DCG / ideal DCG with
gains 1/log2(rank + 1) and the ideal list holding min(|R|, K) hits; AP@K = sum over hit ranks r of precision@r,
divided by min(|R|, K); MAP@K is its mean. Over all lists: catalogue coverage (distinct recommended items /
catalogue size) and popularity bias (share of recommended slots filled by the top 1% most popular training items).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def hit_matrix(positions: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """(users, K) booleans: is the item at each rank relevant to that user (padding -1 never is)."""
    filled = positions >= 0
    if not filled.any():  # no lists (e.g. no cold users): sparse fancy indexing cannot take empty indices
        return np.zeros(positions.shape, dtype=bool)
    rows = np.repeat(np.arange(len(positions)), positions.shape[1]).reshape(positions.shape)
    looked_up = np.asarray(relevant[rows[filled], positions[filled]]).ravel() > 0
    hits = np.zeros(positions.shape, dtype=bool)
    hits[filled] = looked_up
    return hits


def ranking_metrics(positions: np.ndarray, relevant: sp.csr_matrix, popular_items: np.ndarray,
                    n_catalogue: int) -> dict:
    """Means over the users that have at least one relevant item (others cannot be scored)."""
    n_relevant = np.diff(relevant.indptr)
    scored = n_relevant > 0
    k = positions.shape[1]
    hits = hit_matrix(positions[scored], relevant[scored])
    n_rel = n_relevant[scored]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.minimum(n_rel, k) - 1]
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    filled = positions[positions >= 0]
    return {
        "users": int(scored.sum()),
        f"recall@{k}": _mean(hits.sum(axis=1) / n_rel),
        f"ndcg@{k}": _mean((hits * discounts).sum(axis=1) / ideal),
        f"map@{k}": _mean((precision_at * hits).sum(axis=1) / np.minimum(n_rel, k)),
        "coverage": float(len(np.unique(filled)) / n_catalogue) if n_catalogue else 0.0,
        "popularity_bias": float(_mask(popular_items, n_catalogue)[filled].mean()) if len(filled) else 0.0,
    }


def top_share_items(popularity: np.ndarray, share: float = 0.01) -> np.ndarray:
    """Positions of the `share` most popular items (at least one)."""
    n = max(1, int(round(len(popularity) * share)))
    return np.argsort(-popularity, kind="stable")[:n]


def _mask(positions: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[positions] = True
    return mask


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
