"""Reference models every CTR model is compared against, fitted on the same training rows.

- global CTR: one number for every impression. Beating it on logloss is the bare minimum.
- historical CTR per entity (per ad): what a rules-based ad server does. The gap between it and the ground-truth
  click probability is the room a learnt model has; the report says how much of that room the model closes.
- logistic regression on the same features (one-hot categoricals, scaled numerics): the classic linear CTR
  model. A tree model that cannot beat it is not earning its complexity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from .features import category_keys


class GlobalCtrBaseline:
    """The training rows' click rate, for everyone."""

    name = "global_ctr"

    def fit(self, labels: np.ndarray) -> "GlobalCtrBaseline":
        self.ctr = float(np.mean(labels))
        return self

    def predict(self, n_rows: int) -> np.ndarray:
        return np.full(n_rows, self.ctr)


class HistoricalCtrBaseline:
    """Each entity's (ad's) click rate over the training rows, smoothed towards the global rate with
    `prior_strength` pseudo-impressions: (clicks + k * global) / (impressions + k). Entities never seen in
    training get the global rate."""

    def __init__(self, entity_column: str, prior_strength: float = 30.0):
        self.entity_column = entity_column
        self.prior_strength = prior_strength
        self.name = f"historical_ctr_by_{entity_column}"

    def fit(self, entities: pd.Series, labels: np.ndarray) -> "HistoricalCtrBaseline":
        self.global_ctr = float(np.mean(labels))
        stats = pd.DataFrame({"key": category_keys(entities).to_numpy(), "y": labels}).groupby("key")["y"]
        clicks, impressions = stats.sum(), stats.count()
        self.rates = (clicks + self.prior_strength * self.global_ctr) / (impressions + self.prior_strength)
        return self

    def predict(self, entities: pd.Series) -> np.ndarray:
        rates = category_keys(entities).map(self.rates)
        return rates.fillna(self.global_ctr).to_numpy(dtype=np.float64)


class LogisticRegressionBaseline:
    """L2 logistic regression on the encoded feature matrix: categorical codes one-hot encoded (rare and unseen
    values already share one code), numerics put on a log scale (counts are heavy-tailed), mean-imputed with a
    missing-indicator, and standardised. Trained on at most `max_rows` training rows (a uniform sample) to
    keep the baseline cheap next to the model it checks."""

    name = "logistic_regression"

    def __init__(self, categorical_indices: list[int], numeric_indices: list[int], max_rows: int = 300_000,
                 regularisation: float = 1.0, seed: int = 0):
        self.categorical_indices = categorical_indices
        self.numeric_indices = numeric_indices
        self.max_rows = max_rows
        self.regularisation = regularisation
        self.seed = seed

    def fit(self, matrix: np.ndarray, labels: np.ndarray) -> "LogisticRegressionBaseline":
        if len(labels) > self.max_rows:
            rows = np.random.default_rng(self.seed).choice(len(labels), self.max_rows, replace=False)
            matrix, labels = matrix[rows], labels[rows]
        parts = []
        if self.categorical_indices:
            parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), self.categorical_indices))
        if self.numeric_indices:
            numeric = make_pipeline(FunctionTransformer(_signed_log1p), SimpleImputer(add_indicator=True),
                                    StandardScaler())
            parts.append(("numeric", numeric, self.numeric_indices))
        self.pipeline = make_pipeline(
            ColumnTransformer(parts),
            LogisticRegression(C=self.regularisation, max_iter=500, tol=1e-5),
        )
        self.pipeline.fit(matrix, labels)
        self.training_rows = len(labels)
        return self

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return self.pipeline.predict_proba(matrix)[:, 1]


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))
