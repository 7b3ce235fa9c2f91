"""ml.metrics: the figures every model report is built from, checked against definitions and sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss as sklearn_log_loss
from sklearn.metrics import roc_auc_score

from ml import metrics


@pytest.fixture(scope="module")
def calibrated():
    """Labels drawn from their predicted probabilities: a perfectly calibrated model by construction."""
    rng = np.random.default_rng(3)
    p = rng.beta(1.0, 20.0, size=200_000)
    return (rng.random(len(p)) < p).astype(int), p


def test_auc_and_logloss_match_sklearn(calibrated):
    y, p = calibrated
    assert metrics.auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert metrics.log_loss(y, p) == pytest.approx(sklearn_log_loss(y, p))


def test_normalized_entropy_is_one_for_the_base_rate_and_below_for_an_informative_model(calibrated):
    y, p = calibrated
    base = np.full(len(y), y.mean())
    assert metrics.normalized_entropy(y, base) == pytest.approx(1.0)
    assert metrics.normalized_entropy(y, p) < 0.95
    rate = 0.04
    assert metrics.binary_entropy(rate) == pytest.approx(-(rate * math.log(rate) + (1 - rate) * math.log(1 - rate)))


def test_calibrated_predictions_have_small_ece_and_shifted_ones_do_not(calibrated):
    y, p = calibrated
    assert metrics.expected_calibration_error(y, p) < 0.003
    assert metrics.expected_calibration_error(y, np.clip(p * 2, 0, 1)) > 0.03


def test_reliability_table_covers_every_row_in_ordered_bins(calibrated):
    y, p = calibrated
    table = metrics.reliability_table(y, p, n_bins=10)
    assert len(table) == 10
    assert sum(row["count"] for row in table) == len(y)
    assert all(a["upper"] <= b["lower"] for a, b in zip(table, table[1:]))
    assert all(abs(row["mean_predicted"] - row["observed_rate"]) < 0.01 for row in table)
    uniform = metrics.reliability_table(y, p, n_bins=10, strategy="uniform")
    assert sum(row["count"] for row in uniform) == len(y)


def test_confident_mistakes_give_finite_loss():
    assert math.isfinite(metrics.log_loss([1, 0], [0.0, 1.0]))


def test_binary_report_is_json_ready_and_handles_one_class():
    report = metrics.binary_report([0, 0, 0], [0.1, 0.2, 0.3])
    assert report["auc"] is None and report["rows"] == 3
    assert isinstance(report["reliability"], list)


@pytest.mark.parametrize("labels, predictions, message", [
    ([], [], "no rows"),
    ([0, 1], [0.5], "labels but"),
    ([0, 2], [0.5, 0.5], "0 or 1"),
    ([0, 1], [0.5, 1.5], "probabilities"),
    ([0, 1], [0.5, float("nan")], "probabilities"),
])
def test_bad_inputs_are_refused(labels, predictions, message):
    with pytest.raises(ValueError, match=message):
        metrics.log_loss(labels, predictions)


def test_auc_refuses_one_class():
    with pytest.raises(ValueError, match="one class"):
        metrics.auc([1, 1], [0.2, 0.3])
