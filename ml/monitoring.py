"""Drift and calibration monitoring for scored data: population stability index and predicted/observed ratio.

PSI compares a feature's distribution in a scored day against the training window. Bins are fixed on the
training (reference) data, so a shift in the scored day shows up as mass moving between those bins. Rule of thumb:
< 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EPSILON = 1e-6


def psi_numeric(reference: pd.Series, current: pd.Series, n_bins: int = 10) -> float:
    """PSI of a numeric feature with quantile bins fixed on the reference data."""
    ref = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype=float)
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("PSI needs non-empty reference and current data")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1]))
    ref_share = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    cur_share = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    return _psi(ref_share, cur_share)


def psi_categorical(reference: pd.Series, current: pd.Series, max_categories: int = 50) -> float:
    """PSI of a categorical feature; categories beyond the reference's top ones (and unseen ones) share a bin."""
    ref = reference.astype("string").fillna("<null>")
    cur = current.astype("string").fillna("<null>")
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("PSI needs non-empty reference and current data")
    top = ref.value_counts().index[:max_categories]
    ref_binned = ref.where(ref.isin(top), "<other>")
    cur_binned = cur.where(cur.isin(top), "<other>")
    categories = sorted(set(ref_binned) | set(cur_binned))
    ref_share = ref_binned.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
    cur_share = cur_binned.value_counts(normalize=True).reindex(categories, fill_value=0).to_numpy()
    return _psi(ref_share, cur_share)


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


@dataclass(frozen=True)
class CalibrationSnapshot:
    rows: int
    predicted_ctr: float
    observed_ctr: float

    @property
    def ratio(self) -> float:
        """Predicted over observed CTR: 1.0 is calibrated, 1.2 means the model over-predicts by 20%."""
        return self.predicted_ctr / self.observed_ctr if self.observed_ctr > 0 else float("inf")


def calibration_snapshot(labels, predictions) -> CalibrationSnapshot:
    labels = np.asarray(labels, dtype=float)
    predictions = np.asarray(predictions, dtype=float)
    if len(labels) == 0:
        raise ValueError("no rows to compare")
    return CalibrationSnapshot(rows=len(labels), predicted_ctr=float(predictions.mean()),
                               observed_ctr=float(labels.mean()))


def feature_drift(reference: pd.DataFrame, current: pd.DataFrame, numeric: list[str],
                  categorical: list[str]) -> dict[str, float]:
    """PSI per feature, for the columns present in both frames."""
    drift = {c: psi_numeric(reference[c], current[c]) for c in numeric if c in reference and c in current}
    drift.update({c: psi_categorical(reference[c], current[c]) for c in categorical
                  if c in reference and c in current})
    return drift
