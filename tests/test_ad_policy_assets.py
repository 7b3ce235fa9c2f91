"""The ad-policy assets in the daily job on generated days: a VW policy learnt from the logged feedback, promoted
only when its value beats the serving policy's with confidence, and evaluated off-policy against the truth."""

import datetime as dt
import json
import shutil

import dagster as dg
import duckdb
import pytest

from ml.registry import ModelRegistry
from ml.synthetic import generate_days
from tests.helpers import query, run_daily_job

pytestmark = pytest.mark.slow

FIRST, DAYS = dt.date(2026, 5, 1), 4
FAST_BOOTSTRAP = {"config": {"n_bootstrap": 300}}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = tmp_path_factory.mktemp("ad_policy") / "home"
    generate_days(FIRST, DAYS, home / "landing", home / "ground_truth", events_per_day=15_000, seed=11)
    last = FIRST + dt.timedelta(days=DAYS - 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        result = run_daily_job(FIRST, last, run_config={"ops": {"ad_policy": FAST_BOOTSTRAP,
                                                                "ad_policy_evaluation": FAST_BOOTSTRAP}})
        # An operator serves v0001 whatever its evaluation said; the next policy is then compared with it.
        ModelRegistry(home / "models", "ad_policy").promote("v0001", reason="test: serve v0001")
        again = rematerialise_policy_assets()
    return home, result, again


def rematerialise_policy_assets(config=FAST_BOOTSTRAP):
    from orchestration.defs.models.ad_policy import ad_policy, ad_policy_evaluation
    from orchestration.defs.resources import build_resources

    return dg.materialize([ad_policy, ad_policy_evaluation], resources=build_resources(),
                          run_config={"ops": {"ad_policy": config, "ad_policy_evaluation": config}})


def metadata(result, name):
    events = [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == name]
    assert len(events) == 1, f"{name} materialised {len(events)} times"
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


def test_candidates_flow_from_the_logs_into_the_impressions_mart(ran):
    home, _, _ = ran
    total, with_candidates, offered = query(home, """
        SELECT count(*), count(candidate_ad_ids), count(*) FILTER (WHERE list_contains(candidate_ad_ids, ad_id))
        FROM marts.fct_impressions""")[0]
    assert total > 0 and with_candidates == total and offered == total


def test_policy_is_registered_and_promoted_only_when_its_uplift_interval_is_above_zero(ran):
    home, result, _ = ran
    meta = metadata(result, "ad_policy")
    assert meta["version"] == "v0001" and meta["compared_with"] == "the logging policy"
    assert meta["training_window"]["evaluation"] == [str(FIRST + dt.timedelta(days=DAYS - 1))]
    low = meta["uplift_dr_ci_low"]
    assert meta["uplift_dr_ci_low"] <= meta["uplift_dr"] <= meta["uplift_dr_ci_high"]
    assert meta["promoted"] is (low > 0)
    decision = json.loads((home / "models" / "ad_policy" / "decisions.jsonl").read_text().splitlines()[0])
    assert decision["promoted"] is (low > 0) and decision["candidate_score"] == pytest.approx(low)
    assert (home / "models" / "ad_policy" / "v0001" / "policy.vw").stat().st_size > 0
    # every impression of the window is usable: the generator logs propensity and candidates on each
    assert meta["unusable_impressions"] == {}


def test_evaluation_reports_true_values_and_estimator_errors_on_generated_data(ran):
    _, result, _ = ran
    evaluation = metadata(result, "ad_policy")["estimates_json"]
    rows = evaluation["rows"]
    assert rows > 500
    truth = evaluation["true_values"]
    # the logging policy's estimate is its observed mean reward; its truth is computed from the generator's
    # per-candidate probabilities; on a few thousand impressions they agree within sampling noise
    logging = evaluation["estimates"]["logging"]["ips"]
    assert logging["ci_low"] - 0.01 <= truth["logging"] <= logging["ci_high"] + 0.01
    for name in ("ips", "snips", "dr"):
        new = evaluation["estimates"]["new"][name]
        assert new["ci_low"] <= new["value"] <= new["ci_high"]
        assert evaluation["errors"]["new"][name] == pytest.approx(new["value"] - truth["new"])
    assert evaluation["true_uplift"] == pytest.approx(truth["new"] - truth["logging"])


def test_next_policy_is_compared_with_the_serving_one_and_the_serving_one_is_evaluated(ran):
    home, first_run, again = ran
    evaluated_first = [e for e in first_run.get_asset_materialization_events()
                       if e.asset_key.path[-1] == "ad_policy_evaluation"]
    assert bool(evaluated_first) is metadata(first_run, "ad_policy")["promoted"]  # skipped while none is promoted
    meta = metadata(again, "ad_policy")
    assert meta["version"] == "v0002" and meta["compared_with"] == "serving v0001"
    assert set(meta["estimates_json"]["estimates"]) == {"new", "current", "logging"}
    assert meta["promoted"] is (meta["uplift_dr_ci_low"] > 0)
    serving = ModelRegistry(home / "models", "ad_policy").promoted_version()
    assert serving == ("v0002" if meta["promoted"] else "v0001")

    evaluation = metadata(again, "ad_policy_evaluation")
    assert evaluation["policy_version"] == serving
    assert evaluation["evaluation_day"] == str(FIRST + dt.timedelta(days=DAYS - 1))
    estimates = evaluation["estimates_json"]
    assert set(estimates["estimates"]) == {"serving", "logging"} and estimates["rows"] > 500
    for name in ("ips", "snips", "dr"):
        low, value, high = (evaluation[f"uplift_{name}{s}"] for s in ("_ci_low", "", "_ci_high"))
        assert low <= value <= high
    assert "| serving |" in evaluation["estimates"] and set(evaluation["estimator_errors"]) == {"serving", "logging"}


def test_impressions_without_propensity_or_candidates_are_left_out_and_counted(ran, tmp_path, monkeypatch):
    home, _, _ = ran
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    last = FIRST + dt.timedelta(days=DAYS - 1)
    with duckdb.connect(str(copy / "attnflow.duckdb")) as conn:
        ids = [r[0] for r in conn.execute("SELECT impression_id FROM marts.fct_impressions WHERE event_date = ? "
                                          "ORDER BY impression_id LIMIT 5", [last]).fetchall()]
        conn.execute("UPDATE marts.fct_impressions SET propensity = NULL WHERE impression_id IN (?, ?)", ids[:2])
        conn.execute("UPDATE marts.fct_impressions SET propensity = 0 WHERE impression_id = ?", ids[2:3])
        conn.execute("UPDATE marts.fct_impressions SET candidate_ad_ids = NULL WHERE impression_id = ?", ids[3:4])
        conn.execute("UPDATE marts.fct_impressions SET candidate_ad_ids = ['zz1', 'zz2'] WHERE impression_id = ?",
                     ids[4:5])
    monkeypatch.setenv("ATTNFLOW_HOME", str(copy))
    meta = metadata(rematerialise_policy_assets(), "ad_policy")
    assert meta["unusable_impressions"] == {"no propensity": 2, "propensity outside (0, 1]": 1, "no candidates": 1,
                                            "shown ad not among its candidates": 1}
    usable = query(copy, "SELECT count(*) FROM marts.fct_impressions WHERE event_date = ?", [last])[0][0] - 5
    assert meta["rows"]["evaluation"] == usable


def test_with_one_day_of_feedback_nothing_is_trained_and_the_asset_says_why(ran, tmp_path, monkeypatch):
    home, _, _ = ran
    shutil.copytree(home, tmp_path / "home")
    monkeypatch.setenv("ATTNFLOW_HOME", str(tmp_path / "home"))
    registry = ModelRegistry(tmp_path / "home" / "models", "ad_policy")
    before = registry.versions()
    result = rematerialise_policy_assets({"config": {"n_bootstrap": 300, "window_days": 1}})
    meta = metadata(result, "ad_policy")
    assert meta["retrained"] is False and "only 1 usable day(s)" in meta["reason"]
    assert meta["serving_version"] == registry.promoted_version() and registry.versions() == before
