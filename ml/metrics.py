"""Metrics for binary probability models (CTR now; any classifier that outputs probabilities later).

Ranking quality (AUC) and probability quality (logloss, normalised entropy, calibration) are reported side by
side because a CTR model feeds auctions and budgets: it has to order impressions well *and* say the right number.

All functions take labels in {0, 1} and predicted probabilities, and return plain floats / lists of dicts so the
results can go straight into JSON reports.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score

# Probabilities are clipped into [EPSILON, 1 - EPSILON] before taking logs so one confident mistake gives a large
# but finite loss rather than infinity.
EPSILON = 1e-15


def auc(labels, predictions) -> float:
    """Area under the ROC curve: the chance that a random positive is scored above a random negative."""
    y, p = _validated(labels, predictions)
    if y.min() == y.max():
        raise ValueError("AUC is undefined when the labels hold one class only")
    return float(roc_auc_score(y, p))


def log_loss(labels, predictions) -> float:
    """Mean negative log-likelihood of the labels under the predicted probabilities (natural log)."""
    y, p = _validated(labels, predictions)
    p = np.clip(p, EPSILON, 1.0 - EPSILON)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def binary_entropy(rate: float) -> float:
    """Logloss of always predicting `rate` on data whose positive rate is `rate` (natural log)."""
    rate = min(max(float(rate), EPSILON), 1.0 - EPSILON)
    return -(rate * math.log(rate) + (1.0 - rate) * math.log1p(-rate))


def normalized_entropy(labels, predictions, base_rate: float | None = None) -> float:
    """Logloss divided by the entropy of the base rate (He et al., 2014): < 1 means better than predicting the
    average CTR everywhere. Dividing out the base rate makes the figure comparable across days and datasets whose
    CTR differs. `base_rate` defaults to the positive rate of `labels`."""
    y, _ = _validated(labels, predictions)
    rate = float(y.mean()) if base_rate is None else base_rate
    return log_loss(labels, predictions) / binary_entropy(rate)


def reliability_table(labels, predictions, n_bins: int = 10, strategy: str = "quantile") -> list[dict]:
    """Predicted vs observed positive rate per bin of predictions.

    strategy="quantile" puts about the same number of rows in each bin, which suits CTRs (most predictions sit
    in a narrow band near the base rate, so equal-width bins would leave almost everything in the first bin);
    "uniform" uses equal-width bins over [0, 1]. Empty bins are left out.
    """
    y, p = _validated(labels, predictions)
    bin_of_row = _bin_rows(p, n_bins, strategy)
    rows = []
    for b in np.unique(bin_of_row):
        mask = bin_of_row == b
        rows.append({
            "bin": int(b),
            "lower": float(p[mask].min()),
            "upper": float(p[mask].max()),
            "count": int(mask.sum()),
            "mean_predicted": float(p[mask].mean()),
            "observed_rate": float(y[mask].mean()),
        })
    return rows


def expected_calibration_error(labels, predictions, n_bins: int = 10, strategy: str = "quantile") -> float:
    """Row-weighted mean of |mean predicted - observed rate| over the reliability bins (0 = perfectly calibrated)."""
    table = reliability_table(labels, predictions, n_bins, strategy)
    total = sum(row["count"] for row in table)
    return float(sum(row["count"] * abs(row["mean_predicted"] - row["observed_rate"]) for row in table) / total)


def binary_report(labels, predictions, n_bins: int = 10, base_rate: float | None = None,
                  with_reliability: bool = True) -> dict:
    """Every metric above in one JSON-ready dict (AUC is None when the labels hold one class only)."""
    y, p = _validated(labels, predictions)
    one_class = y.min() == y.max()
    report = {
        "rows": int(len(y)),
        "positive_rate": float(y.mean()),
        "mean_predicted": float(p.mean()),
        "auc": None if one_class else auc(y, p),
        "logloss": log_loss(y, p),
        "normalized_entropy": normalized_entropy(y, p, base_rate),
        "ece": expected_calibration_error(y, p, n_bins),
    }
    if with_reliability:
        report["reliability"] = reliability_table(y, p, n_bins)
    return report


def _validated(labels, predictions) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.asarray(predictions, dtype=np.float64).ravel()
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    if len(y) == 0:
        raise ValueError("no rows to evaluate")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("predictions must be probabilities in [0, 1] without NaN")
    return y, p


def _bin_rows(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1)))
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', not {strategy!r}")
    # Inner edges only: values below the first inner edge go to bin 0, at or above the last to the final bin.
    return np.searchsorted(edges[1:-1], p, side="right")
