"""Personalised recommendation from attention: implicit-feedback matrix factorisation (ALS from the `implicit`
package) where the confidence of a user-item interaction comes from attention (engaged time, likes, comments,
shares), a popularity/recency fallback by interest segment for cold-start users, and offline evaluation on a time
split (recall@K, NDCG@K, MAP@K, coverage, popularity bias) against popularity, random and, on generated data, the
generator's true preferences.

Plain Python, no Dagster: `python -m ml.recommend --help` runs it on any interactions file.
"""

from .config import AttentionWeights, RecommenderConfig
from .interactions import interactions_from_attention, interactions_from_events
from .recommender import Recommender
from .train import RecommenderReport, train_recommender

__all__ = [
    "AttentionWeights",
    "RecommenderConfig",
    "Recommender",
    "RecommenderReport",
    "interactions_from_attention",
    "interactions_from_events",
    "train_recommender",
]
