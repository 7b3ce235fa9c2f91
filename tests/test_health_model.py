"""Engagement health without Dagster: the survey feed (generator + loader), point-in-time window features, the
user split and per-segment error rates."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ml.health.evaluate import segment_error_rates
from ml.health.features import training_rows, window_features
from ml.health.train import user_part
from ml.synthetic import build_world, generate_day
from ml.synthetic.sessions import late_night_probability
from ml.synthetic.surveys import AT_RISK_CUTOFF, CSV_HEADER
from orchestration.lib.surveys_loader import load_surveys

DAY = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory):
    root = tmp_path_factory.mktemp("surveys")
    manifest = generate_day(DAY, root / "landing", root / "truth", events_per_day=8_000, seed=3, survey_share=0.5)
    return root, manifest


def test_survey_answers_follow_the_latent_trait_and_the_cut_off(surveyed):
    root, manifest = surveyed
    with open(root / "landing" / manifest.survey_file, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_HEADER and len(rows) == manifest.survey_responses > 50
    truth = pq.read_table(root / "truth" / f"dt={DAY}" / "surveys.parquet").to_pandas()
    assert truth["response_id"].tolist() == [r["response_id"] for r in rows]
    assert (truth["at_risk"] == (truth["score"] >= AT_RISK_CUTOFF)).all()
    assert int((~truth["valid"]).sum()) == manifest.invalid_survey_responses
    # the questionnaire measures the trait: at-risk respondents are clearly more compulsive
    assert truth.loc[truth.at_risk, "compulsivity"].mean() > truth.loc[~truth.at_risk, "compulsivity"].mean() + 1.0
    world = build_world(3, 8_000)
    assert np.allclose(truth["compulsivity"], world.user_compulsivity[[int(u[1:]) for u in truth["user_id"]]])


def test_compulsive_users_move_sessions_to_the_small_hours():
    p = late_night_probability(np.array([-1.0, 0.0, 1.0, 2.0]))
    assert np.all(np.diff(p) > 0) and p[1] < 0.02 and 0.15 < p[3] < 0.3


def test_survey_loader_quarantines_every_invalid_answer_with_its_reason(surveyed, tmp_path):
    root, manifest = surveyed
    conn = duckdb.connect()
    report = load_surveys(conn, root / "landing")
    assert report.rows_loaded == manifest.survey_responses - manifest.invalid_survey_responses
    assert report.quarantined == manifest.invalid_survey_responses
    assert set(report.quarantine_reasons) <= {"item_out_of_range"}

    folder = tmp_path / "surveys"
    folder.mkdir()
    header = ",".join(CSV_HEADER)
    (folder / "a.csv").write_text(
        f"{header}\n"
        "r1,u1,2026-03-01T10:00:00Z,bergen6,5,5,4,4,4,4,26\n"
        "r2,,2026-03-01T10:00:00Z,bergen6,1,1,1,1,1,1,6\n"
        "r3,u3,yesterday,bergen6,1,1,1,1,1,1,6\n"
        "r4,u4,2026-03-01T11:00:00Z,bergen6,1,1,1,1,1,6,11\n"
        "r5,u5,2026-03-01T12:00:00Z,bergen6,1,1,1,1,1,1,9\n")
    report = load_surveys(conn, tmp_path)
    assert (report.rows_loaded, report.quarantined) == (1, 4)
    assert conn.execute("SELECT line_no, reason FROM raw.surveys_quarantine ORDER BY line_no").fetchall() == [
        (3, "missing_user_id"), (4, "bad_answered_at"), (5, "item_out_of_range"), (6, "score_mismatch")]
    load_surveys(conn, tmp_path)  # rebuilt, not appended
    assert conn.execute("SELECT count(*) FROM raw.surveys").fetchone()[0] == 1
    (folder / "b.csv").write_text("response_id,user_id\nr9,u9\n")
    with pytest.raises(ValueError, match="lacks column"):
        load_surveys(conn, tmp_path)
    assert conn.execute("SELECT count(*) FROM raw.surveys").fetchone()[0] == 1  # rolled back, nothing lost


def _daily(rows):
    columns = ("user_key", "event_date", "active_minutes", "sessions", "longest_session_minutes",
               "late_night_sessions", "day_streak", "top_topic_share", "minutes_vs_baseline", "main_device")
    frame = pd.DataFrame(rows, columns=columns)
    frame["event_date"] = pd.to_datetime(frame["event_date"]).dt.date
    return frame


def test_window_features_use_only_the_window_and_count_quiet_days_as_zero():
    daily = _daily([
        ("a", "2026-03-01", 100.0, 4, 30.0, 0, 1, 0.5, None, "ios"),   # before the window: ignored
        ("a", "2026-03-03", 20.0, 2, 10.0, 1, 1, 0.4, 0.5, "ios"),
        ("a", "2026-03-04", 40.0, 2, 25.0, 1, 2, 0.7, 1.5, "ios"),
        ("a", "2026-03-05", 999.0, 9, 99.0, 9, 3, 1.0, 9.0, "ios"),   # after as_of: ignored (no leakage)
        ("b", "2026-03-04", 6.0, 3, 2.0, 0, 1, 1.0, None, "web"),
    ])
    anchors = pd.DataFrame({"user_key": ["a", "b", "c"], "as_of_date": [dt.date(2026, 3, 4)] * 3, "tag": [1, 2, 3]})
    out = window_features(daily, anchors, window_days=3).set_index("user_key")
    a = out.loc["a"]
    assert a.active_days == 2 and a.mean_daily_minutes == pytest.approx(60 / 3)
    assert a.max_daily_minutes == 40 and a.sessions_per_day == pytest.approx(4 / 3)
    assert a.longest_session_minutes == 25 and a.late_night_share == pytest.approx(0.5) and a.late_night_days == 2
    assert a.current_day_streak == 2 and a.max_day_streak == 2
    assert a.top_topic_share == pytest.approx((0.4 * 20 + 0.7 * 40) / 60) and a.trend_vs_baseline == pytest.approx(1.0)
    assert out.loc["b"].trend_vs_baseline != out.loc["b"].trend_vs_baseline  # NaN: no baseline yet
    c = out.loc["c"]  # no usage at all: a quiet user, not a missing one
    assert (c.active_days, c.mean_daily_minutes, c.current_day_streak) == (0, 0.0, 0)
    assert out["tag"].tolist() == [1, 2, 3]


def test_training_rows_describe_the_days_before_the_answer_and_skip_cut_short_histories():
    daily = _daily([
        ("a", "2026-03-09", 10.0, 1, 5.0, 0, 1, 1.0, None, "ios"),
        ("a", "2026-03-10", 50.0, 1, 5.0, 0, 2, 1.0, 5.0, "ios"),  # the answer's own day: not a feature
    ])
    surveys = pd.DataFrame({"user_key": ["a", "a"], "survey_date": [dt.date(2026, 3, 10), dt.date(2026, 3, 4)],
                            "is_at_risk": [True, False]})
    rows = training_rows(daily, surveys, window_days=3, first_full_day=dt.date(2026, 3, 2))
    assert len(rows) == 1  # the 2026-03-04 answer's window would start on 03-01, before the first whole day
    assert rows.iloc[0].as_of_date == dt.date(2026, 3, 9) and rows.iloc[0].mean_daily_minutes == pytest.approx(10 / 3)


def test_users_keep_their_part_and_parts_have_the_requested_sizes():
    keys = [f"user-{i}" for i in range(5000)]
    parts = pd.Series([user_part(k, 0.2, 0.2) for k in keys])
    assert parts.tolist() == [user_part(k, 0.2, 0.2) for k in keys]
    shares = parts.value_counts(normalize=True)
    assert shares["test"] == pytest.approx(0.2, abs=0.03) and shares["calibration"] == pytest.approx(0.2, abs=0.03)


def test_segment_error_rates_count_false_positives_and_negatives_per_group():
    labels = [1, 1, 0, 0, 0, 1, 0, 0]
    scores = [0.9, 0.1, 0.8, 0.1, 0.2, 0.7, 0.1, 0.1]
    segments = pd.Series(["ios"] * 4 + ["web"] * 4)
    rates = segment_error_rates(labels, scores, segments, threshold=0.5, min_rows=4, min_denominator=1)
    ios, web = rates["segments"]
    assert (ios["false_positive_rate"], ios["false_negative_rate"]) == (0.5, 0.5)
    assert (web["false_positive_rate"], web["false_negative_rate"]) == (0.0, 0.0)
    assert rates["max_gap"] == {"false_positive_rate": 0.5, "false_negative_rate": 0.5}
    assert segment_error_rates(labels, scores, segments, 0.5, min_rows=5, min_denominator=1)["max_gap"] == {
        "false_positive_rate": None, "false_negative_rate": None}  # segments too small
    # web has 3 negatives but 1 positive: with at least 2 of each, only the false-positive rates compare
    assert segment_error_rates(labels, scores, segments, 0.5, min_rows=4, min_denominator=2)["max_gap"] == {
        "false_positive_rate": 0.5, "false_negative_rate": None}


def test_saved_model_predicts_the_same_calibrated_probabilities_and_the_rule_ranks_by_minutes(tmp_path):
    from ml.health.evaluate import MinutesRule
    from ml.health.features import FEATURES
    from ml.health.model import HealthModel

    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.random((600, len(FEATURES))), columns=list(FEATURES))
    rows["is_at_risk"] = (rows["late_night_share"] + 0.5 * rng.random(600) > 1.0).astype(int)
    model = HealthModel.fit(rows[:400], rows[400:500], "is_at_risk")
    model.save(tmp_path / "v")
    again = HealthModel.load(tmp_path / "v")
    p = again.predict(rows[500:])
    assert np.array_equal(p, model.predict(rows[500:])) and ((p >= 0) & (p <= 1)).all()
    assert model.feature_importance()[0]["feature"] == "late_night_share"  # the only informative feature
    rule = MinutesRule(rows[:500], "is_at_risk").predict(rows[500:])
    minutes = rows[500:]["mean_daily_minutes"].reset_index(drop=True)
    assert abs(pd.Series(rule).corr(minutes, method="spearman")) == pytest.approx(1.0)  # ranks by minutes alone


def test_auc_gain_interval_brackets_the_gain_and_resamples_people():
    from ml.health.evaluate import auc_gain_interval

    rng = np.random.default_rng(1)
    people = np.repeat(np.arange(150), 2)
    y = (rng.random(300) < 0.3).astype(int)
    strong, weak = y + rng.normal(0, 0.5, 300), y + rng.normal(0, 2.0, 300)
    gain = auc_gain_interval(y, strong, weak, people, resamples=300)
    assert gain["low"] < gain["gain"] < gain["high"] and gain["low"] > 0 and gain["resamples"] == 300
    same = auc_gain_interval(y, strong, strong, people, resamples=50)
    assert same["gain"] == same["low"] == same["high"] == 0.0
