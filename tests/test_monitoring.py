"""Drift (PSI) and calibration monitoring on data with a known shift."""

import numpy as np
import pandas as pd
import pytest

from ml.monitoring import calibration_snapshot, feature_drift, psi_categorical, psi_numeric


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(0, 1, 20_000))
    same = pd.Series(rng.normal(0, 1, 20_000))
    shifted = pd.Series(rng.normal(1.0, 1, 20_000))
    assert psi_numeric(reference, same) < 0.01
    assert psi_numeric(reference, shifted) > 0.25
    assert psi_numeric(reference, shifted) > psi_numeric(reference, pd.Series(rng.normal(0.3, 1, 20_000)))


def test_categorical_psi_counts_unseen_categories_as_shift():
    reference = pd.Series(["ios"] * 500 + ["android"] * 400 + ["web"] * 100)
    assert psi_categorical(reference, reference.sample(frac=1.0, random_state=1)) < 1e-9
    moved = pd.Series(["ios"] * 200 + ["android"] * 300 + ["tv"] * 500)
    assert psi_categorical(reference, moved) > 1.0


def test_feature_drift_and_calibration_snapshot():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=5000), "device": rng.choice(["a", "b"], 5000)})
    cur = pd.DataFrame({"x": rng.normal(2, 1, size=5000), "device": rng.choice(["a", "b"], 5000)})
    drift = feature_drift(ref, cur, numeric=["x", "missing"], categorical=["device"])
    assert set(drift) == {"x", "device"} and drift["x"] > 0.25 > drift["device"]
    snap = calibration_snapshot([0, 1, 0, 0], [0.3, 0.3, 0.3, 0.3])
    assert snap.observed_ctr == 0.25 and snap.ratio == pytest.approx(1.2)
    with pytest.raises(ValueError):
        calibration_snapshot([], [])
