"""Three generated days through the real pipeline: counts against the generator's manifest, idempotent re-runs,
backfill == single-day runs == full refresh, and point-in-time features."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ml.synthetic import DayManifest, generate_days
from tests.helpers import query, run_daily_job

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
MARTS = {
    "staging.stg_raw__events": "event_id",
    "intermediate.int_events__sessionised": "event_id",
    "marts.fct_impressions": "impression_id",
    "marts.fct_ctr_training": "impression_id",
    "marts.fct_sessions": "session_id",
    "marts.fct_daily_attention": "user_key, item_id, event_date",
    "marts.fct_ad_daily_performance": "ad_id, event_date",
    "marts.fct_comments": "comment_id",
    "marts.dim_users": "user_key",
    "marts.dim_user_topic_interests": "user_key, topic",
    "marts.dim_items": "item_id",
    "marts.dim_ads": "ad_id",
}
REPO = Path(__file__).resolve().parents[1]


def snapshot(home: Path) -> dict[str, list[tuple]]:
    def canon(row):
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)
    return {t: [canon(r) for r in query(home, f"SELECT * FROM {t} ORDER BY {key}")] for t, key in MARTS.items()}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """Generate 3 days once; run them one by one, re-run day 2, then backfill the range in a fresh home."""
    root = tmp_path_factory.mktemp("generated")
    singles, backfill = root / "singles", root / "backfill"
    manifests = generate_days(DAYS[0], len(DAYS), singles / "landing", root / "truth",
                              events_per_day=3000, seed=11)
    shutil.copytree(singles / "landing", backfill / "landing")
    out = {"manifests": {dt.date.fromisoformat(m.day): m for m in manifests}, "truth": root / "truth",
           "singles": singles}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(singles))
        for day in DAYS:
            assert run_daily_job(day).success
            if day == DAYS[1]:
                out["training_day2_before_day3"] = query(
                    singles, "SELECT * FROM marts.fct_ctr_training WHERE event_date = ? ORDER BY impression_id",
                    [DAYS[1]])
        out["after_singles"] = snapshot(singles)
        assert run_daily_job(DAYS[1]).success
        out["after_rerun"] = snapshot(singles)

        mp.setenv("ATTNFLOW_HOME", str(backfill))
        assert run_daily_job(DAYS[0], DAYS[-1]).success
        out["after_backfill"] = snapshot(backfill)

        env = {**os.environ, "ATTNFLOW_DUCKDB_PATH": str(backfill / "attnflow.duckdb")}
        subprocess.run([str(Path(sys.executable).parent / "dbt"), "build", "--full-refresh", "--quiet",
                        "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project")],
                       check=True, env=env, cwd=REPO / "dbt_project")
        out["after_full_refresh"] = snapshot(backfill)
    return out


def test_raw_and_quarantine_counts_match_the_generator_exactly(scenario):
    home = scenario["singles"]
    for day, m in scenario["manifests"].items():
        loaded = query(home, "SELECT count(*) FROM raw.events WHERE dt = ?", [day])[0][0]
        assert loaded == m.total_lines - m.malformed_lines - m.missing_field_lines - m.unknown_type_lines
        reasons = dict(query(home, "SELECT reason, count(*) FROM raw.events_quarantine WHERE dt = ? GROUP BY 1",
                             [day]))
        malformed = sum(n for r, n in reasons.items() if r in ("invalid_json", "not_an_object", "empty_line"))
        assert malformed == m.malformed_lines
        missing = {r.split(":")[1]: n for r, n in reasons.items() if r.startswith("missing_required_field:")}
        assert missing == {f: n for f, n in m.missing_fields.items() if n}
        unknown = {r.split(":")[1]: n for r, n in reasons.items() if r.startswith("unknown_event_type:")}
        assert unknown == {t: n for t, n in m.unknown_types.items() if n}
        assert sum(reasons.values()) == m.quarantined_lines


def test_staging_deduplicates_and_keeps_late_events_on_their_own_day(scenario):
    home = scenario["singles"]
    for day, m in scenario["manifests"].items():
        counts = dict(query(home, "SELECT event_type, count(*) FROM staging.stg_raw__events WHERE landed_date = ? "
                                  "GROUP BY 1", [day]))
        assert counts == {t: n for t, n in m.event_counts.items() if n}
        assert sum(counts.values()) == m.clean_events
        late = query(home, "SELECT count(*), min(event_date), max(event_date) FROM staging.stg_raw__events "
                           "WHERE landed_date = ? AND is_late", [day])[0]
        assert late[0] == m.late_events
        if m.late_events:
            assert late[1] == late[2] == day - dt.timedelta(days=1)
    dupes = query(home, "SELECT count(*) - count(DISTINCT event_id) FROM raw.events")[0][0]
    assert dupes == sum(m.duplicate_lines for m in scenario["manifests"].values())


def test_impression_labels_and_comment_labels_match_the_ground_truth(scenario):
    home, truth = scenario["singles"], scenario["truth"]
    impressions = pd.concat(pd.read_parquet(p) for p in sorted(truth.glob("dt=*/impressions.parquet")))
    marts = pd.DataFrame(query(home, "SELECT impression_id, is_clicked FROM marts.fct_impressions"),
                         columns=["event_id", "is_clicked"])
    merged = impressions.merge(marts, on="event_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["clicked"].astype(int) == merged["is_clicked"]).all()

    comments = pd.concat(pd.read_parquet(p) for p in sorted(truth.glob("dt=*/comments.parquet")))
    labelled = dict(query(home, "SELECT comment_id, label FROM marts.fct_comments WHERE label IS NOT NULL"))
    expected = comments.dropna(subset=["annotated_label"])
    assert labelled == dict(zip(expected["event_id"], expected["annotated_label"]))
    assert query(home, "SELECT count(*) FROM marts.fct_comments")[0][0] == len(comments)


def test_rerunning_a_partition_changes_nothing(scenario):
    assert scenario["after_rerun"] == scenario["after_singles"]
    for table, key in MARTS.items():
        if "," not in key:
            rows = scenario["after_rerun"][table]
            assert rows, f"{table} is empty"


def test_backfill_of_the_range_equals_single_day_runs(scenario):
    for table in MARTS:
        assert scenario["after_backfill"][table] == scenario["after_singles"][table], table


def test_full_refresh_gives_the_same_tables(scenario):
    for table in MARTS:
        assert scenario["after_full_refresh"][table] == scenario["after_singles"][table], table


def test_point_in_time_features_use_no_data_from_the_day_or_later(scenario):
    home = scenario["singles"]
    # Loading day 3 (which also carries late events of day 2) must not change any feature of day-2 impressions.
    before = {r[0]: r for r in scenario["training_day2_before_day3"]}
    after = {r[0]: r for r in query(home, "SELECT * FROM marts.fct_ctr_training WHERE event_date = ?", [DAYS[1]])}
    assert before and set(before) <= set(after)
    assert all(after[k] == before[k] for k in before)

    # And each history feature equals a recomputation from strictly earlier days.
    recomputed = dict(((u, d), (n, c)) for u, d, n, c in query(home, """
        SELECT t.user_key, t.event_date, count(h.impression_id), coalesce(sum(h.is_clicked), 0)
        FROM (SELECT DISTINCT i.user_key, i.event_date FROM marts.fct_impressions i) t
        LEFT JOIN marts.fct_impressions h
          ON h.user_key = t.user_key AND h.event_date < t.event_date AND h.event_date >= t.event_date - 28
        GROUP BY ALL"""))
    rows = query(home, "SELECT i.user_key, t.event_date, t.user_impressions_lookback, t.user_clicks_lookback "
                       "FROM marts.fct_ctr_training t JOIN marts.fct_impressions i USING (impression_id)")
    assert rows
    assert all(recomputed[(u, d)] == (n, c) for u, d, n, c in rows)
    earliest = [r for r in rows if r[1] == DAYS[0] - dt.timedelta(days=1)]  # late events of Feb 28
    assert earliest and all(n == 0 for _u, _d, n, _c in earliest)  # nothing exists before them
    assert any(n > 0 for _u, d, n, _c in rows if d == DAYS[-1])  # later days do see history


def test_comment_model_waits_for_enough_annotations(scenario):
    """Three small days hold a few dozen labels: the classifier is skipped (not trained on too little), so no
    version is registered and nothing is scored, while the run still succeeds."""
    home = scenario["singles"]
    labels = query(home, "SELECT count(*) FROM marts.fct_comments WHERE label IS NOT NULL")[0][0]
    assert 0 < labels < 300  # the default min_labels
    registry = home / "models" / "comment_classifier"
    assert not registry.exists() or not [p for p in registry.iterdir() if p.name.startswith("v")]
    assert query(home, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'comment_sentiment'")[0][0] == 0


def test_dbt_artifacts_are_kept_in_the_home_folder(scenario):
    """Each dbt invocation of the runs left its run_results.json under <home>/dbt_runs/, named by asset and run."""
    runs = sorted((scenario["singles"] / "dbt_runs").iterdir())
    names = {p.name.split("-")[0] for p in runs}
    assert names == {"dbt_daily_models", "dbt_whole_table_models"}
    assert len(runs) == 2 * 4  # three single-day runs and the re-run, two dbt invocations each
    assert all((p / "run_results.json").is_file() for p in runs)
