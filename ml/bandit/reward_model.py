"""The direct model of the doubly robust estimator: expected reward of any candidate action in a logged context.

A LightGBM classifier on the bandit's own context and action features (context columns, the action's id and
features, e.g. ad topic and campaign), fitted on earlier logged rows than those it is used to evaluate on. The
CTR model (ml/ctr) is not reused: its strongest features are point-in-time histories of the ad that was actually
shown (ad CTR, campaign CTR, the user's share on the ad's topic), which do not exist for the candidates that were
not shown, so it cannot score the counterfactual actions DR needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .feedback import LoggedFeedback

ACTION_COLUMN = "action"


@dataclass(frozen=True)
class RewardModelConfig:
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 50
    cat_smooth: float = 20.0
    seed: int = 0


@dataclass
class RewardModel:
    booster: object
    categories: dict[str, pd.Index] = field(default_factory=dict)

    @classmethod
    def fit(cls, feedback: LoggedFeedback, config: RewardModelConfig = RewardModelConfig()) -> "RewardModel":
        import lightgbm as lgb

        rows = _design(feedback, feedback.actions)
        categories = {c: pd.Index(sorted(rows[c].unique())) for c in rows.columns}
        model = lgb.LGBMClassifier(
            n_estimators=config.n_estimators, learning_rate=config.learning_rate, num_leaves=config.num_leaves,
            min_child_samples=config.min_child_samples, cat_smooth=config.cat_smooth, random_state=config.seed,
            deterministic=True, force_row_wise=True, verbose=-1,
        )
        model.fit(_encode(rows, categories), (feedback.reward > 0).astype(int))
        return cls(model, categories)

    def predict(self, feedback: LoggedFeedback) -> np.ndarray:
        """(n, k): predicted reward of every candidate of every row."""
        n, k = feedback.candidates.shape
        repeated = feedback.take(np.repeat(np.arange(n), k))
        rows = _design(repeated, feedback.candidates.ravel())
        return self.booster.predict_proba(_encode(rows, self.categories))[:, 1].reshape(n, k)


def _design(feedback: LoggedFeedback, actions: np.ndarray) -> pd.DataFrame:
    """Context columns plus the action and its features, one row per (context, action), all categorical."""
    frame = feedback.context.copy()
    frame[ACTION_COLUMN] = np.asarray(actions, dtype=object)
    names = sorted({name for features in feedback.action_features.values() for name in features})
    for name in names:
        frame[f"{ACTION_COLUMN}_{name}"] = [feedback.action_features.get(a, {}).get(name, "") for a in actions]
    return frame


def _encode(rows: pd.DataFrame, categories: dict[str, pd.Index]) -> pd.DataFrame:
    """Categorical dtype with the training categories: an unseen value becomes missing (LightGBM's own bucket)."""
    return pd.DataFrame({c: pd.Categorical(rows[c], categories=categories[c]) for c in categories})
