"""Recommender settings, each with the reason for its default."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class AttentionWeights:
    """How much each signal adds to a user-item attention score, in engaged-minute equivalents.

    Engaged time (view dwell, each view capped upstream at 10 minutes) counts minute for minute. A like is a cheap,
    explicit "more of this" (1 minute); a comment costs effort and shows involvement, though not always approval
    (2 minutes); a share puts the user's name on the item, the strongest endorsement (3 minutes). The score is
    summed over the training days and enters ALS as confidence ``alpha * log1p(score)``: log, so one binge does not
    drown every other interaction of the user.
    """

    engaged_minute: float = 1.0
    like: float = 1.0
    comment: float = 2.0
    share: float = 3.0


@dataclass(frozen=True)
class RecommenderConfig:
    factors: int = 16
    """Latent dimensions. Few: a user's daily history is a handful of items, and wide factors then fit noise (on
    generated data, whose tastes span 12 topics, 64 factors fell below the popularity baseline). Raise it for
    large real catalogues with long histories."""
    regularization: float = 1.0
    alpha: float = 4.0
    """Confidence scale (implicit's `alpha`): how much more an observed interaction weighs than an unobserved one."""
    iterations: int = 15
    random_state: int = 0
    k: int = 20
    """Length of the recommendation lists, and the K of recall@K / NDCG@K / MAP@K."""
    exclude_seen: bool = True
    """Leave items the user already interacted with out of their list (and out of the relevant test items)."""
    min_user_items: int = 3
    """Users with fewer distinct items in their history get the popularity fallback: a factor folded in from one or
    two interactions is mostly noise."""
    popularity_half_life_days: float = 3.0
    """Recency of the popularity fallback: an interaction counts half as much every this many days."""
    min_segment_users: int = 20
    """An interest segment needs this many users before it gets its own popularity list (else: global)."""
    weights: AttentionWeights = field(default_factory=AttentionWeights)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RecommenderConfig":
        data = dict(data)
        data["weights"] = AttentionWeights(**data.get("weights", {}))
        return cls(**data)
