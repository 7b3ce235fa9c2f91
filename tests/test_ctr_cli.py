"""python -m ml.ctr on files: a Criteo-shaped table without a time column (with and without a header line), a
small dated table, scoring with a saved model in a fresh process, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.ctr import CtrModel
from ml.ctr.features import CRITEO_COLUMNS

REPO = Path(__file__).resolve().parents[1]
ROWS = 8000


def criteo_like(rows: int, seed: int = 0) -> pd.DataFrame:
    """label, I1..I13 (counts with gaps), C1..C26 (hashed hex categories with gaps), in the Criteo layout.
    Clicks depend on C1, C2 and I1 so a working model has something to find."""
    rng = np.random.default_rng(seed)
    columns, logit = {}, np.full(rows, -2.2)
    for i in range(1, 14):
        values = rng.poisson(rng.uniform(0.5, 20.0), rows).astype(float)
        if i == 1:
            logit += 0.08 * np.minimum(values, 15) - 0.5
        values[rng.random(rows) < 0.1] = np.nan
        columns[f"I{i}"] = values
    for i in range(1, 27):
        vocabulary = np.array([f"{h:08x}" for h in rng.integers(0, 2**32, size=[5, 40, 400][i % 3])])
        picks = np.minimum(rng.zipf(1.6, rows) - 1, len(vocabulary) - 1)
        if i in (1, 2):
            logit += rng.normal(0.0, 0.9, len(vocabulary))[picks]
        values = vocabulary[picks].astype(object)
        values[rng.random(rows) < 0.05] = None
        columns[f"C{i}"] = values
    label = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"label": label, **columns})[list(CRITEO_COLUMNS)]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml.ctr", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO)


@pytest.fixture(scope="module")
def criteo_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("criteo")
    df = criteo_like(ROWS)
    df.to_csv(folder / "train.tsv", sep="\t", index=False)
    df.to_csv(folder / "train_raw.txt", sep="\t", index=False, header=False)  # as Criteo ships it
    return folder, df


def test_train_and_score_a_criteo_like_file_without_time_column(criteo_files, tmp_path):
    folder, df = criteo_files
    out = tmp_path / "model"
    trained = cli("train", "--data", folder / "train.tsv", "--categorical", "C1,C2", "--out", out)
    assert trained.returncode == 0, trained.stderr
    assert "AUC" in trained.stdout and "logistic_regression" in trained.stdout and "row order" in trained.stdout

    report = json.loads((out / "report.json").read_text())
    assert report["split"]["mode"] == "row_order"
    assert report["split"]["rows"] == {"train": ROWS - 2 * ROWS // 10, "validation": ROWS // 10,
                                       "test": ROWS // 10}
    assert report["feature_spec"]["time_column"] is None
    assert set(report["feature_spec"]["categorical"]) == {f"C{i}" for i in range(1, 27)}
    assert set(report["feature_spec"]["numeric"]) == {f"I{i}" for i in range(1, 14)}
    assert report["model"]["auc"] > report["baselines"]["global_ctr"]["auc"] + 0.1
    assert report["model"]["logloss"] < report["baselines"]["global_ctr"]["logloss"]

    predictions_file = tmp_path / "predictions.csv"
    scored = cli("score", "--model", out, "--data", folder / "train.tsv", "--out", predictions_file)
    assert scored.returncode == 0, scored.stderr
    predictions = pd.read_csv(predictions_file)
    assert list(predictions.columns) == ["row", "predicted_ctr"] and len(predictions) == ROWS
    assert predictions["predicted_ctr"].between(0, 1).all()
    np.testing.assert_allclose(predictions["predicted_ctr"], CtrModel.load(out).predict(df), rtol=1e-12)


def test_headerless_criteo_file_gets_the_criteo_column_names(criteo_files, tmp_path):
    folder, _ = criteo_files
    trained = cli("train", "--data", folder / "train_raw.txt", "--no-header", "--no-baselines",
                  "--out", tmp_path / "model")
    assert trained.returncode == 0, trained.stderr
    report = json.loads((tmp_path / "model" / "report.json").read_text())
    assert report["feature_spec"]["label"] == "label" and report["baselines"] == {}
    scored = cli("score", "--model", tmp_path / "model", "--data", folder / "train_raw.txt", "--no-header",
                 "--out", tmp_path / "p.parquet")
    assert scored.returncode == 0, scored.stderr
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == ROWS


def test_a_dated_table_is_split_by_day_and_predictions_keep_its_ids(tmp_path):
    rng = np.random.default_rng(5)
    n = 6000
    ads = rng.integers(0, 30, n)
    ad_effect = rng.normal(0, 0.8, 30)
    df = pd.DataFrame({
        "impression_id": [f"e{i:06d}" for i in range(n)],
        "event_date": pd.to_datetime("2026-03-01") + pd.to_timedelta(np.sort(rng.integers(0, 5, n)), unit="D"),
        "ad_id": [f"a{a:03d}" for a in ads],
        "slot": rng.integers(1, 5, n),
        "propensity": rng.random(n),
    })
    df["is_clicked"] = (rng.random(n) < 1 / (1 + np.exp(-(-2.5 + ad_effect[ads] - 0.3 * df["slot"])))).astype(int)
    df.to_csv(tmp_path / "dated.csv", index=False)

    trained = cli("train", "--data", tmp_path / "dated.csv", "--out", tmp_path / "model",
                  "--params", '{"min_data_in_leaf": 20}')
    assert trained.returncode == 0, trained.stderr
    report = json.loads((tmp_path / "model" / "report.json").read_text())
    assert report["split"]["mode"] == "time"
    assert report["split"]["test_periods"] == ["2026-03-05"] and report["split"]["validation_periods"] == ["2026-03-04"]
    assert report["feature_spec"]["categorical"] == ["ad_id"] and report["feature_spec"]["numeric"] == ["slot"]
    assert "historical_ctr_by_ad_id" in report["baselines"] and report["params"]["min_data_in_leaf"] == 20

    unseen = df.tail(50).assign(ad_id="a999")  # an ad the model never saw
    unseen.to_csv(tmp_path / "new.csv", index=False)
    scored = cli("score", "--model", tmp_path / "model", "--data", tmp_path / "new.csv", "--out", tmp_path / "p.csv")
    assert scored.returncode == 0, scored.stderr
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions["impression_id"]) == list(unseen["impression_id"])
    assert predictions["predicted_ctr"].between(0, 1).all()


def test_errors_are_reported_without_a_traceback(criteo_files, tmp_path):
    folder, df = criteo_files
    missing_label = cli("train", "--data", folder / "train.tsv", "--label", "clicked", "--out", tmp_path / "m")
    assert missing_label.returncode == 2 and "missing columns: clicked" in missing_label.stderr
    assert "Traceback" not in missing_label.stderr

    assert cli("train", "--data", folder / "train.tsv", "--no-baselines", "--out", tmp_path / "m").returncode == 0
    df.drop(columns=["C3", "I2"]).head(20).to_csv(tmp_path / "partial.tsv", sep="\t", index=False)
    missing_features = cli("score", "--model", tmp_path / "m", "--data", tmp_path / "partial.tsv",
                           "--out", tmp_path / "p.csv")
    assert missing_features.returncode == 2
    assert "missing feature columns C3, I2" in missing_features.stderr

    assert "no such file" in cli("train", "--data", tmp_path / "nope.csv").stderr
    assert "unsupported file type" in cli("train", "--data", tmp_path / "m" / "report.json").stderr
