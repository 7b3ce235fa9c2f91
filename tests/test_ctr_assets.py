"""The CTR assets in the daily job: train + register + promote, batch scores, monitoring, on generated days."""

import datetime as dt
import json
from pathlib import Path

import pytest

from ml.synthetic import generate_days
from tests.helpers import query, run_daily_job

FIRST, DAYS = dt.date(2026, 4, 1), 6


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("ctr") / "home"
    generate_days(FIRST, DAYS, home / "landing", home / "ground_truth", events_per_day=15_000, seed=5)
    last = FIRST + dt.timedelta(days=DAYS - 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        first_run = run_daily_job(FIRST, last)
        second_run = run_daily_job(last)
    return home, first_run, second_run


def materialized(result, name):
    return [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == name]


def test_model_is_trained_registered_and_promoted(trained):
    home, first_run, second_run = trained
    events = materialized(first_run, "ctr_model")
    assert len(events) == 1
    meta = events[0].materialization.metadata
    assert meta["version"].value == "v0001" and meta["promoted"].value is True
    assert meta["auc"].value > 0.6
    registry = home / "models" / "ctr"
    assert (registry / "PROMOTED").read_text().strip() in {"v0001", "v0002"}
    stored = json.loads((registry / "v0001" / "metadata.json").read_text())
    assert stored["training_window"]["test"] == [str(FIRST + dt.timedelta(days=DAYS - 1))]
    assert stored["metrics"]["auc"] == pytest.approx(meta["auc"].value)
    # evaluation charts: PNGs in the registered version's folder, linked by path and shown inline as Markdown
    for chart in ("roc", "reliability", "feature_importance"):
        png = Path(meta[f"{chart}_chart"].value)
        assert png.parent == (registry / "v0001" / "charts").resolve() and png.read_bytes()[:4] == b"\x89PNG"
        assert f"![{chart}](data:image/png;base64," in meta["charts"].value
    # the second run retrains on the same window and records its promotion decision against v0001
    second = materialized(second_run, "ctr_model")[0].materialization.metadata
    assert second["version"].value == "v0002"
    decisions = [json.loads(l) for l in (registry / "decisions.jsonl").read_text().splitlines()]
    assert [d["version"] for d in decisions] == ["v0001", "v0002"]
    assert decisions[1]["current_version"] == "v0001" and decisions[1]["current_score"] is not None


def test_scores_cover_every_impression_of_the_window_with_the_promoted_model(trained):
    home, first_run, _ = trained
    assert materialized(first_run, "ctr_scores")
    scored, expected = query(home, """
        SELECT (SELECT count(*) FROM scores.ctr_scores),
               (SELECT count(*) FROM marts.fct_ctr_training)""")[0]
    assert scored == expected > 0
    low, high, versions = query(home, "SELECT min(p_click), max(p_click), count(DISTINCT model_version) "
                                      "FROM scores.ctr_scores WHERE event_date = ?", [FIRST + dt.timedelta(5)])[0]
    assert 0 < low < high < 1 and versions == 1
    assert query(home, "SELECT count(*) - count(DISTINCT impression_id) FROM scores.ctr_scores")[0][0] == 0


def test_monitoring_compares_predicted_and_observed_ctr_per_day(trained):
    home, first_run, _ = trained
    rows = query(home, "SELECT event_date, rows, predicted_ctr, observed_ctr, max_psi FROM monitoring.ctr_daily "
                       "ORDER BY event_date")
    assert [r[0] for r in rows][-1] == FIRST + dt.timedelta(days=DAYS - 1)
    for _day, n, predicted, observed, psi in rows:
        assert n > 0 and 0 < predicted < 0.2 and 0 <= observed < 0.2 and psi >= 0
    checks = [e for e in first_run.get_asset_check_evaluations() if e.check_name == "ctr_drift_and_calibration"]
    assert len(checks) == 1
