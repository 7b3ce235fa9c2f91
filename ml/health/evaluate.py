"""How the engagement-health model is judged: the CTR model's standard (AUC, logloss, calibration) plus the Brier
score, next to the rule a product team would otherwise use (flag heavy users by daily minutes), and error rates per
segment so that an unfair difference between groups (device, country) is visible before anyone relies on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from ml import metrics

from .features import RULE_FEATURE


def probability_report(labels, predictions) -> dict:
    """metrics.binary_report (AUC, logloss, normalised entropy, ECE, reliability table) plus the Brier score."""
    report = metrics.binary_report(labels, predictions)
    report["brier"] = float(brier_score_loss(np.asarray(labels, dtype=int), np.asarray(predictions, dtype=float)))
    return report


class MinutesRule:
    """The baseline: the more daily minutes, the more risk. Its ranking is the minutes themselves; its
    probabilities come from a logistic curve on log minutes fitted on the training answers, so that its logloss,
    Brier score and error rates at a threshold compare fairly with the model's."""

    def __init__(self, train: pd.DataFrame, label: str):
        self._curve = LogisticRegression().fit(self._x(train), train[label].astype(int))

    @staticmethod
    def _x(rows: pd.DataFrame) -> np.ndarray:
        return np.log1p(rows[RULE_FEATURE].to_numpy(dtype=float)).reshape(-1, 1)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return self._curve.predict_proba(self._x(rows))[:, 1]


def segment_error_rates(labels, predictions, segments: pd.Series, threshold: float,
                        min_rows: int = 30, min_denominator: int = 10) -> dict:
    """False-positive and false-negative rates at `threshold` per segment value, and the largest gap between
    segments. A rate enters the gap only for a segment with at least `min_rows` rows and `min_denominator`
    negatives (FPR) or positives (FNR): smaller segments are listed, but their rates are too noisy to compare."""
    frame = pd.DataFrame({"y": np.asarray(labels, dtype=int), "flag": np.asarray(predictions) >= threshold,
                          "segment": segments.fillna("unknown").astype(str).to_numpy()})
    rows = []
    for value, part in frame.groupby("segment", sort=True):
        negatives, positives = int((part.y == 0).sum()), int((part.y == 1).sum())
        rows.append({
            "segment": value, "rows": len(part), "positives": positives, "flagged": int(part.flag.sum()),
            "false_positive_rate": float((part.flag & (part.y == 0)).sum() / negatives) if negatives else None,
            "false_negative_rate": float((~part.flag & (part.y == 1)).sum() / positives) if positives else None,
            "comparable": len(part) >= min_rows,
        })
    denominators = {"false_positive_rate": "negatives", "false_negative_rate": "positives"}
    for row in rows:
        row["negatives"] = row["rows"] - row["positives"]
    return {"threshold": threshold, "min_rows": min_rows, "min_denominator": min_denominator, "segments": rows,
            "max_gap": {rate: _gap([r[rate] for r in rows
                                    if r["comparable"] and r[denominators[rate]] >= min_denominator])
                        for rate in denominators}}


def _gap(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(max(values) - min(values)) if len(values) >= 2 else None


def auc_gain_interval(labels, model, baseline, groups, resamples: int = 1000, seed: int = 0) -> dict:
    """AUC(model) - AUC(baseline) on the same rows with a 95% bootstrap interval. Whole groups (people, whose
    answers are not independent) are resampled, so the interval reflects how many people were tested."""
    y = np.asarray(labels, dtype=int)
    scores = np.vstack([np.asarray(model, dtype=float), np.asarray(baseline, dtype=float)])
    _, group_of_row = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(group_of_row == g) for g in range(group_of_row.max() + 1)]
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(resamples):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        if 0 < y[rows].sum() < len(rows):
            a, b = _auc(y[rows], scores[:, rows])
            gains.append(a - b)
    a, b = _auc(y, scores)
    low, high = np.quantile(gains, [0.025, 0.975])
    return {"gain": float(a - b), "low": float(low), "high": float(high), "resamples": len(gains)}


def _auc(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC of each row of `scores` (Mann-Whitney, ties counted half), vectorised for the bootstrap."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    positives = int(y.sum())
    negatives = len(y) - positives
    return (ranks[:, y == 1].sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
