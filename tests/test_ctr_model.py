"""The LightGBM CTR model on generated days run through the real pipeline: it must beat the baselines, close
most of the gap to the true click probabilities, split by time without overlap, score unseen categories, survive
save/load in a fresh process, and refuse bad input with clear errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml import metrics
from ml.ctr import (
    RARE_CODE, CategoryMaps, CtrModel, CtrTrainingConfig, FeatureSpec, SplitConfig, oracle_comparison,
    split_by_row_order, split_by_time, train_ctr_model,
)
from ml.ctr.evaluate import model_scorer
from ml.registry import ModelRegistry
from ml.synthetic import generate_days
from tests.helpers import run_daily_job

START = dt.date(2026, 3, 1)
DAYS = 6
EVENTS_PER_DAY = 40_000  # ~8k impressions a day, ~300 clicks on the test day
SEED = 11
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Generate DAYS days, build marts.fct_ctr_training with the daily job, train once on it."""
    home = tmp_path_factory.mktemp("ctr_home")
    generate_days(START, DAYS, home / "landing", home / "truth", events_per_day=EVENTS_PER_DAY, seed=SEED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        for name in ("ATTNFLOW_LANDING_DIR", "ATTNFLOW_TRUTH_DIR", "ATTNFLOW_DUCKDB_PATH"):
            mp.delenv(name, raising=False)
        assert run_daily_job(START, START + dt.timedelta(days=DAYS - 1)).success
    with duckdb.connect(str(home / "attnflow.duckdb"), read_only=True) as conn:
        df = conn.execute("SELECT * FROM marts.fct_ctr_training ORDER BY event_ts, impression_id").df()
    truth = pd.concat(pd.read_parquet(p) for p in sorted((home / "truth").glob("dt=*/impressions.parquet")))
    model, report = train_ctr_model(df)
    report.attach_oracle(truth)
    return SimpleNamespace(home=home, df=df, truth=truth, model=model, report=report)


@pytest.fixture
def test_rows(run) -> pd.DataFrame:
    return run.report.test_rows(run.df).copy()


# ---- quality ------------------------------------------------------------------------------------------------


def test_model_beats_the_per_ad_and_global_baselines(run):
    report = run.report
    per_ad, global_ctr = report.baselines["historical_ctr_by_ad_id"], report.baselines["global_ctr"]
    print("\n" + report.metrics_table())
    assert report.model["auc"] > per_ad["auc"] + 0.03
    assert report.model["logloss"] < per_ad["logloss"] < global_ctr["logloss"]
    assert report.model["normalized_entropy"] < per_ad["normalized_entropy"] < 1.0
    assert report.model["ece"] < 0.02  # predicted CTRs are probabilities, not just scores
    # The generator's click model is additive in logit space, which logistic regression matches by construction,
    # so on a window this short the two are level (trees pull ahead at scale, see bench/ctr_training.py); the
    # trees must at least hold their own.
    logistic = report.baselines["logistic_regression"]
    assert report.model["auc"] > logistic["auc"] - 0.01
    assert report.model["logloss"] < logistic["logloss"] + 0.002


def test_model_closes_most_of_the_gap_between_the_per_ad_baseline_and_the_oracle(run):
    oracle = run.report.oracle
    assert oracle["rows_without_truth"] == 0
    assert oracle["rows_matched"] == run.report.class_balance["test"]["rows"]
    assert oracle["reference_baseline"] == "historical_ctr_by_ad_id"
    assert oracle["oracle"]["auc"] > oracle["model"]["auc"] > oracle["baseline"]["auc"]
    # Measured on this fixture: 0.66 (AUC) and 0.54 (logloss); 0.84 / 0.79 with 21 days in the bench. Most of
    # what is left is each user's own click propensity, which five days of history barely reveal.
    assert oracle["fraction_of_gap_closed"]["auc"] > 0.5
    assert oracle["fraction_of_gap_closed"]["logloss"] > 0.4
    # the same figures from the predictions frame directly
    again = oracle_comparison(run.report.test_predictions, run.truth)
    assert again["fraction_of_gap_closed"] == oracle["fraction_of_gap_closed"]


def test_the_same_table_in_another_row_order_gives_the_same_model(run):
    shuffled = run.df.sample(frac=1.0, random_state=1)
    _, report = train_ctr_model(shuffled, config=CtrTrainingConfig(baselines=False))
    assert report.best_iteration == run.report.best_iteration
    assert report.model["logloss"] == pytest.approx(run.report.model["logloss"], rel=1e-9)


def test_propensity_is_not_a_feature_and_every_feature_has_an_importance(run):
    features = [row["feature"] for row in run.report.feature_importance]
    assert "propensity" not in features
    assert sorted(features) == sorted(run.model.feature_names)
    assert all(row["gain"] >= 0 for row in run.report.feature_importance)
    assert run.report.feature_importance[0]["gain"] > 0


def test_report_is_json_and_complete(run):
    data = json.loads(json.dumps(run.report.to_dict()))
    for key in ("model", "baselines", "feature_importance", "split", "class_balance", "params", "best_iteration",
                "oracle", "training_config"):
        assert key in data
    assert set(data["baselines"]) == {"global_ctr", "historical_ctr_by_ad_id", "logistic_regression"}
    balance = data["class_balance"]
    assert sum(balance[p]["rows"] for p in ("train", "validation", "test")) == len(run.df)
    assert 0 < balance["train"]["positive_rate"] < 0.2
    reliability = data["model"]["reliability"]
    assert sum(row["count"] for row in reliability) == balance["test"]["rows"]
    assert 1 <= data["best_iteration"] < data["training_config"]["num_boost_round"]
    assert data["params"]["objective"] == "binary"


# ---- time split ---------------------------------------------------------------------------------------------


def test_split_is_by_whole_days_without_overlap(run):
    split = run.report.split
    assert split["mode"] == "time"
    train, validation, test = (set(split[f"{p}_periods"]) for p in ("train", "validation", "test"))
    assert not (train & validation or train & test or validation & test)
    assert max(train) < min(validation) and max(validation) < min(test)
    assert test == {(START + dt.timedelta(days=DAYS - 1)).isoformat()}
    days = run.df["event_date"].dt.strftime("%Y-%m-%d")
    assert train | validation | test == set(days)

    parts = split_by_time(run.df["event_date"])
    positions = [parts.train, parts.validation, parts.test]
    assert sum(len(p) for p in positions) == len(run.df) == len(np.unique(np.concatenate(positions)))
    for rows, periods in zip(positions, (train, validation, test)):
        assert set(days.iloc[rows]) == periods


def test_split_counts_fractions_and_training_cap():
    days = pd.Series(pd.to_datetime(np.repeat(pd.date_range("2026-03-01", periods=10).to_numpy(), 3)))
    split = split_by_time(days, SplitConfig(validation=2, test=0.2, train=3))
    assert split.test_periods == ["2026-03-09", "2026-03-10"]
    assert split.validation_periods == ["2026-03-07", "2026-03-08"]
    assert split.train_periods == ["2026-03-04", "2026-03-05", "2026-03-06"]
    with pytest.raises(ValueError, match="too few days"):
        split_by_time(days[:6])  # two days: nothing left to train on
    with pytest.raises(ValueError, match="fraction"):
        split_by_time(days, SplitConfig(test=1.5))


def test_a_table_without_time_column_is_split_by_row_order():
    split = split_by_row_order(100)
    assert split.mode == "row_order"
    assert list(split.train) == list(range(80))
    assert list(split.validation) == list(range(80, 90)) and list(split.test) == list(range(90, 100))
    with pytest.raises(ValueError, match="too few rows"):
        split_by_row_order(2)


# ---- categories, scoring, persistence ------------------------------------------------------------------------


def test_rare_and_unseen_categories_share_one_code():
    train = pd.DataFrame({"ad": ["a"] * 5 + ["b"] * 2 + [None] * 5, "slot": [3.0] * 12})
    maps = CategoryMaps.fit(train, ["ad", "slot"], min_count=3)
    codes = maps.encode(pd.Series(["a", "b", "never_seen", None]), "ad")
    assert codes[0] != RARE_CODE and codes[3] != RARE_CODE  # missing is a category of its own when common
    assert codes[1] == codes[2] == RARE_CODE  # too rare in training / unseen
    assert maps.encode(pd.Series([3, 3.0, 4]), "slot").tolist()[:2] == [1, 1]  # 3 and 3.0 are one value


def test_unseen_categories_at_scoring_get_the_rare_treatment(run, test_rows):
    baseline = run.model.predict(test_rows)
    novel = test_rows.assign(ad_id="a_brand_new_ad", campaign_id="c_new", geo="ZZ", user_top_topic=None)
    other_novel = novel.assign(ad_id="another_new_ad", geo="YY")
    p_novel, p_other = run.model.predict(novel), run.model.predict(other_novel)
    assert np.isfinite(p_novel).all() and ((p_novel > 0) & (p_novel < 1)).all()
    np.testing.assert_array_equal(p_novel, p_other)  # every unseen value is the same "unknown" category
    assert not np.array_equal(p_novel, baseline)


def test_save_and_load_give_identical_predictions_in_a_fresh_process(run, test_rows, tmp_path):
    folder = run.model.save(tmp_path / "model")
    expected = run.model.predict(test_rows)
    np.testing.assert_array_equal(CtrModel.load(folder).predict(test_rows), expected)

    test_rows.to_parquet(tmp_path / "rows.parquet")
    code = ("import sys, numpy as np, pandas as pd; from ml.ctr import CtrModel; "
            "m = CtrModel.load(sys.argv[1]); np.save(sys.argv[3], m.predict(pd.read_parquet(sys.argv[2])))")
    subprocess.run([sys.executable, "-c", code, str(folder), str(tmp_path / "rows.parquet"),
                    str(tmp_path / "p.npy")], check=True, cwd=REPO)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


def test_scoring_without_a_feature_column_names_it(run, test_rows):
    with pytest.raises(ValueError, match="ad_id, user_ctr_smoothed"):
        run.model.predict(test_rows.drop(columns=["ad_id", "user_ctr_smoothed"]))
    assert len(run.model.predict(test_rows.drop(columns=["is_clicked", "propensity"]))) == len(test_rows)
    assert len(run.model.predict(test_rows.iloc[:0])) == 0
    with pytest.raises(FileNotFoundError, match="not a saved CTR model"):
        CtrModel.load(run.home)


# ---- bad input ----------------------------------------------------------------------------------------------


def test_empty_table_is_refused(run):
    with pytest.raises(ValueError, match="empty"):
        train_ctr_model(run.df.iloc[:0])


def test_missing_columns_are_named(run):
    with pytest.raises(ValueError, match="missing columns: ad_ctr_smoothed"):
        train_ctr_model(run.df.drop(columns=["ad_ctr_smoothed"]), FeatureSpec.attnflow())
    with pytest.raises(ValueError, match="missing columns: event_date"):
        train_ctr_model(run.df.drop(columns=["event_date"]), FeatureSpec.attnflow())


def test_training_window_with_one_class_is_refused(run):
    test_day = pd.Timestamp(run.report.split["test_periods"][0])
    validation_day = pd.Timestamp(run.report.split["validation_periods"][0])
    no_clicks = run.df.assign(is_clicked=np.where(run.df["event_date"] < validation_day, 0, run.df["is_clicked"]))
    with pytest.raises(ValueError, match="holds only label 0"):
        train_ctr_model(no_clicks)
    assert test_day > validation_day


def test_too_few_days_and_bad_labels_are_refused(run):
    last_two = run.df[run.df["event_date"] >= run.df["event_date"].max() - pd.Timedelta(days=1)]
    with pytest.raises(ValueError, match="too few days"):
        train_ctr_model(last_two)
    with pytest.raises(ValueError, match="0/1"):
        train_ctr_model(run.df.assign(is_clicked=run.df["is_clicked"] * 2))


# ---- registry ----------------------------------------------------------------------------------------------


def test_registry_promotes_the_model_and_refuses_a_weaker_one_on_the_same_test_days(run, test_rows, tmp_path):
    registry = ModelRegistry(tmp_path / "registry", "ctr")
    first = registry.register(run.model.save, run.report.registry_metadata(data_version="test-fixture"))
    assert registry.promote_if_not_worse(first, "logloss", higher_is_better=False).promoted
    assert registry.get(first).metadata["training_window"]["test"] == run.report.split["test_periods"]

    weak, weak_report = train_ctr_model(run.df, config=CtrTrainingConfig(num_boost_round=1, baselines=False))
    second = registry.register(weak.save, weak_report.registry_metadata())
    decision = registry.promote_if_not_worse(second, "logloss", higher_is_better=False, tolerance=0.0005,
                                             score_fn=model_scorer(weak_report.test_rows(run.df), "logloss"))
    assert not decision.promoted and decision.current_score < decision.candidate_score
    assert registry.promoted_version() == first
    promoted = CtrModel.load(registry.promoted().path)
    np.testing.assert_array_equal(promoted.predict(test_rows), run.model.predict(test_rows))
    assert metrics.log_loss(test_rows["is_clicked"], promoted.predict(test_rows)) == pytest.approx(
        run.report.model["logloss"])
