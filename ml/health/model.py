"""The engagement-health classifier: LightGBM on the usage features, calibrated with Platt scaling.

Calibration is fitted on answers the trees never saw (a held-out part of the users), because the score is read as
a probability ("about 3 in 10 people with this pattern report problematic use") when deciding whether to offer a
reminder. Platt scaling (a logistic curve on the trees' score) rather than isotonic regression: survey labels are
few, and two parameters do not over-fit a few hundred answers.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .features import FEATURES

MODEL_FILE = "model.pkl"  # the fitted sklearn/LightGBM objects (load only versions this registry wrote)
SPEC_FILE = "spec.json"


@dataclass
class HealthModelParams:
    """Small, regularised trees: a few hundred survey answers, a dozen features."""

    n_estimators: int = 200
    learning_rate: float = 0.03
    num_leaves: int = 7
    min_child_samples: int = 20
    subsample: float = 0.8
    subsample_freq: int = 1
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    random_state: int = 0
    n_jobs: int = 2
    verbose: int = -1


@dataclass
class HealthModel:
    calibrated: object  # sklearn CalibratedClassifierCV around the fitted (frozen) LGBMClassifier
    features: tuple[str, ...] = FEATURES
    params: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, train: pd.DataFrame, calibration: pd.DataFrame, label: str,
            params: HealthModelParams | None = None) -> "HealthModel":
        from lightgbm import LGBMClassifier
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        params = params or HealthModelParams()
        trees = LGBMClassifier(**asdict(params)).fit(_matrix(train, FEATURES), train[label].astype(int))
        calibrated = CalibratedClassifierCV(FrozenEstimator(trees), method="sigmoid")
        calibrated.fit(_matrix(calibration, FEATURES), calibration[label].astype(int))
        return cls(calibrated=calibrated, params=asdict(params))

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that the user would answer the survey at or above its at-risk cut-off."""
        if len(rows) == 0:
            return np.empty(0)
        return self.calibrated.predict_proba(_matrix(rows, self.features))[:, 1]

    def predict_uncalibrated(self, rows: pd.DataFrame) -> np.ndarray:
        trees = self.calibrated.estimator.estimator
        return trees.predict_proba(_matrix(rows, self.features))[:, 1]

    def feature_importance(self) -> list[dict]:
        booster = self.calibrated.estimator.estimator.booster_
        gain = booster.feature_importance(importance_type="gain")
        total = float(gain.sum()) or 1.0
        order = np.argsort(-gain)
        return [{"feature": self.features[i], "gain": float(gain[i]), "share": float(gain[i] / total)} for i in order]

    def save(self, folder: Path | str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_bytes(pickle.dumps(self.calibrated))
        (folder / SPEC_FILE).write_text(json.dumps({"features": list(self.features), "params": self.params}, indent=2))

    @classmethod
    def load(cls, folder: Path | str) -> "HealthModel":
        folder = Path(folder)
        spec = json.loads((folder / SPEC_FILE).read_text())
        return cls(calibrated=pickle.loads((folder / MODEL_FILE).read_bytes()), features=tuple(spec["features"]),
                   params=spec["params"])


def _matrix(rows: pd.DataFrame, features) -> pd.DataFrame:
    missing = [f for f in features if f not in rows.columns]
    if missing:
        raise ValueError(f"rows lack feature columns {missing}")
    return rows[list(features)].astype("float64")
