"""The engagement-health assets in the daily job on generated days: usage mart, training, promotion, daily scores."""

import datetime as dt
import json
from collections import defaultdict

import pytest

from ml.synthetic import generate_days
from tests.helpers import query, run_daily_job

FIRST, DAYS = dt.date(2026, 5, 1), 10
LAST = FIRST + dt.timedelta(days=DAYS - 1)
WINDOW = 4
RUN_CONFIG = {"ops": {"health_model": {"config": {"window_days": WINDOW, "min_answers": 200}},
                      # not under test here, and fine-tuning a transformer is the slowest step of the job
                      "comment_classifier": {"config": {"min_labels": 10**9}}}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("health") / "home"
    manifests = generate_days(FIRST, DAYS, home / "landing", home / "ground_truth", events_per_day=15_000, seed=11,
                              survey_share=0.4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        first_run = run_daily_job(FIRST, LAST, run_config=RUN_CONFIG)
        scores_before = query(home, "SELECT * FROM scores.user_health_scores ORDER BY event_date, user_key")
        second_run = run_daily_job(LAST, run_config=RUN_CONFIG)
    return home, manifests, first_run, second_run, scores_before


def materialized(result, name):
    return [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == name]


def test_survey_answers_are_loaded_and_bad_ones_quarantined(trained):
    home, manifests, *_ = trained
    loaded, quarantined = query(home, "SELECT (SELECT count(*) FROM staging.stg_raw__wellbeing_surveys), "
                                      "(SELECT count(*) FROM raw.surveys_quarantine)")[0]
    assert quarantined == sum(m.invalid_survey_responses for m in manifests) > 0
    assert loaded == sum(m.survey_responses for m in manifests) - quarantined


def test_day_streak_and_baseline_are_point_in_time(trained):
    home, *_ = trained
    rows = query(home, "SELECT user_key, event_date, active_minutes, day_streak, baseline_minutes "
                       "FROM marts.fct_user_daily_usage ORDER BY user_key, event_date")
    by_user = defaultdict(list)
    for user, day, minutes, streak, baseline in rows:
        by_user[user].append((day, minutes, streak, baseline))
    checked = 0
    for days in by_user.values():
        for i, (day, _minutes, streak, baseline) in enumerate(days):
            expected = 1
            while i - expected >= 0 and days[i - expected][0] == day - dt.timedelta(days=expected):
                expected += 1
            assert streak == expected
            earlier = [m for d, m, _, _ in days[:i] if d >= day - dt.timedelta(days=28)]
            assert (baseline is None) == (not earlier)
            if earlier:
                assert baseline == pytest.approx(sum(earlier) / len(earlier))
            checked += 1
    assert checked > 1000


def test_model_is_calibrated_and_beats_the_daily_minutes_rule(trained):
    home, _, first_run, _, _ = trained
    events = materialized(first_run, "health_model")
    assert len(events) == 1
    meta = events[0].materialization.metadata
    assert meta["version"].value == "v0001" and meta["promoted"].value is True
    card = json.loads((home / "models" / "engagement_health" / "v0001" / "metadata.json").read_text())
    model, rule = card["metrics"], card["baselines"]["minutes_rule"]
    assert model["auc"] > rule["auc"] + 0.03
    assert model["logloss"] < rule["logloss"] and model["brier"] < rule["brier"]
    assert abs(model["ece"]) < 0.1
    assert "ad targeting" in card["intended_use"]
    for column in ("main_device", "main_geo"):
        rates = card["segments"][column]["model"]
        assert {r["segment"] for r in rates["segments"]} and rates["threshold"] == 0.3
    [gap_check] = [c for c in first_run.get_asset_check_evaluations() if c.check_name == "health_segment_error_gap"]
    gaps = gap_check.metadata["gaps"].value
    assert gap_check.passed == all(gap <= 0.15 for gap in gaps.values())
    assert gaps == {f"{column}.{rate}": card["segments"][column]["model"]["max_gap"][rate]
                    for column in ("main_device", "main_geo") for rate in ("false_positive_rate", "false_negative_rate")
                    if card["segments"][column]["model"]["max_gap"][rate] is not None}


def test_scores_cover_active_users_and_a_rerun_replaces_them(trained):
    home, _, first_run, second_run, scores_before = trained
    assert materialized(first_run, "user_health_scores")
    scored, expected = query(home, f"""
        SELECT (SELECT count(*) FROM scores.user_health_scores WHERE event_date = ?),
               (SELECT count(DISTINCT user_key) FROM marts.fct_user_daily_usage
                WHERE event_date BETWEEN ? - INTERVAL {WINDOW - 1} DAY AND ?)""", [LAST, LAST, LAST])[0]
    assert scored == expected > 100
    assert query(home, "SELECT count(*) FROM (SELECT user_key, event_date FROM scores.user_health_scores "
                       "GROUP BY ALL HAVING count(*) > 1)")[0][0] == 0
    low, high = query(home, "SELECT min(p_at_risk), max(p_at_risk) FROM scores.user_health_scores")[0]
    assert 0 <= low < high <= 1
    # the re-run of the last day trained v0002 and re-scored the last two days with the serving model
    assert materialized(second_run, "health_model")[0].materialization.metadata["version"].value == "v0002"
    after = query(home, "SELECT * FROM scores.user_health_scores ORDER BY event_date, user_key")
    assert len(after) == len(scores_before)
    earlier_days = [r for r in scores_before if r[1] < LAST - dt.timedelta(days=1)]
    assert earlier_days == [r for r in after if r[1] < LAST - dt.timedelta(days=1)]
