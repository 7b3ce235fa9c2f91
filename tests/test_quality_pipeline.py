"""Fault injection through the real pipeline: broken data fails exactly the intended expectations, a failed
critical check stops the downstream assets of the run (warnings do not), and nothing already landed is lost.

Generated days 1-3 are good and run first (one single-run backfill); days 4-7 are generated normally, then the
landing files of each are corrupted before that day runs on its own.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from ml.synthetic import generate_days
from tests.helpers import query, run_daily_job

DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(7)]
GOOD, NULL_USERS, UNKNOWN_FLOOD, THIN, LONG_DWELL = DAYS[:3], DAYS[3], DAYS[4], DAYS[5], DAYS[6]
FCT_CTR = dg.AssetKey(["marts", "fct_ctr_training"])
INGEST = {dg.AssetKey("raw_events"), dg.AssetKey("raw_annotations"), dg.AssetKey("raw_surveys")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("quality") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        for name in ("ATTNFLOW_LANDING_DIR", "ATTNFLOW_DUCKDB_PATH", "ATTNFLOW_REPORTS_DIR", "ATTNFLOW_DATA_DOCS",
                     "ATTNFLOW_MISSING_PARTITION"):
            mp.delenv(name, raising=False)
        generate_days(DAYS[0], len(DAYS), home / "landing", home.parent / "truth", events_per_day=2000, seed=5)
        good_run = run_daily_job(GOOD[0], GOOD[-1])
        yield {"home": home, "good_run": good_run, "mp": mp}


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    """Our checks' evaluations in a run, by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()
            if e.check_name.endswith(("_critical", "_warnings"))}


def failed(evaluation: dg.AssetCheckEvaluation) -> set[str]:
    return set(evaluation.metadata["failed_expectations"].value)


def materialised(result) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def outcome(evaluation: dg.AssetCheckEvaluation, name: str, batch: str | None = None) -> dict:
    for b in evaluation.metadata["evidence"].value:
        if batch in (None, b["batch"]):
            for e in b["expectations"]:
                if e["name"] == name:
                    return e
    raise KeyError(name)


def rewrite_landing(home: Path, day: dt.date, change) -> int:
    """Apply ``change(lines) -> (lines, n_changed)`` to each landing file of ``day``; returns lines changed."""
    total = 0
    for path in sorted((home / "landing" / "events" / f"dt={day}").glob("*.jsonl")):
        lines, n = change(path.read_text().splitlines())
        path.write_text("\n".join(lines) + "\n")
        total += n
    return total


def as_event(line: str) -> dict | None:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and value.get("event_type") else None


def assert_blocked(result, check: str = "quality_raw_events") -> None:
    """The run failed at the quality check and built nothing downstream of the checked asset."""
    assert not result.success
    assert result.is_node_failed(check)
    assert materialised(result) <= INGEST
    assert not [e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] in ("staging", "marts")]


def test_good_generated_partitions_pass_every_quality_check(world):
    result = world["good_run"]
    assert result.success
    checks = evaluations(result)
    data_checks = {f"{s}_{sev}" for s in ("raw_events", "fct_ctr_training", "fct_comments")
                   for sev in ("critical", "warnings")}
    assert data_checks <= set(checks) <= data_checks | {"ctr_scores_critical", "ctr_scores_warnings"}
    for name, evaluation in checks.items():
        # Every critical expectation passes; so do the data warnings (a model trained on three small days may
        # get a warning on its scores' spread).
        if name in data_checks or name.endswith("_critical"):
            assert evaluation.passed, (name, evaluation.description)
        assert evaluation.blocking is name.endswith("_critical")
        assert evaluation.severity == (dg.AssetCheckSeverity.ERROR if name.endswith("_critical")
                                       else dg.AssetCheckSeverity.WARN)
    # A single-run backfill validates each day of the range on its own.
    evidence = checks["raw_events_critical"].metadata["evidence"].value
    assert [b["batch"] for b in evidence] == [d.isoformat() for d in GOOD]
    assert checks["fct_comments_critical"].metadata["validated"].value == "all"
    ctr = outcome(checks["fct_ctr_training_critical"], "ctr_in_plausible_band", GOOD[-1].isoformat())
    assert ctr["skipped"] is None and 0.001 < ctr["observed_value"] < 0.5


def test_burst_of_null_user_ids_blocks_the_run_and_loses_nothing(world):
    home, mp = world["home"], world["mp"]

    def null_every_10th_user(lines):
        out, n = [], 0
        for i, line in enumerate(lines):
            event = as_event(line)
            if event and event.get("user_id") and i % 10 == 0:
                event["user_id"], n = None, n + 1
                line = json.dumps(event)
            out.append(line)
        return out, n

    injected = rewrite_landing(home, NULL_USERS, null_every_10th_user)
    mp.setenv("ATTNFLOW_DATA_DOCS", "1")
    try:
        result = run_daily_job(NULL_USERS, raise_on_error=False)
    finally:
        mp.delenv("ATTNFLOW_DATA_DOCS")
    checks = evaluations(result)
    assert failed(checks["raw_events_critical"]) == {"user_id_not_null"}
    assert failed(checks["raw_events_warnings"]) == {"quarantine_share_low"}
    users = outcome(checks["raw_events_critical"], "user_id_not_null")
    assert users["unexpected_count"] >= injected and users["unexpected_percent"] > 9
    assert users["sample"] and all(s["value"] is None and s["line_no"] for s in users["sample"])
    assert_blocked(result)

    # Nothing lost: the partition and its quarantine stay queryable, with the offending lines.
    assert query(home, "SELECT count(*) FROM raw.events WHERE dt = ?", [NULL_USERS])[0][0] > 1000
    quarantined = query(home, "SELECT count(*) FROM raw.events_quarantine WHERE dt = ? "
                              "AND reason = 'missing_required_field:user_id'", [NULL_USERS])[0][0]
    assert quarantined >= injected

    # Data Docs were asked for: built under <home>/reports/data_docs and linked from the check.
    docs = checks["raw_events_critical"].metadata["data_docs"].value
    assert docs == (home / "reports" / "data_docs" / "index.html").as_uri()
    pages = checks["raw_events_critical"].metadata["data_docs_pages"].value
    assert pages and all(Path(p.removeprefix("file://")).is_file() for p in pages)


def test_flood_of_unknown_event_types_blocks_the_run(world):
    def add_heartbeats(lines):
        extra = []
        for i, line in enumerate(lines):
            event = as_event(line)
            if event and i % 4 == 0:
                extra.append(json.dumps({**event, "event_id": f"hb-{i}", "event_type": "app_heartbeat"}))
        return lines + extra, len(extra)

    rewrite_landing(world["home"], UNKNOWN_FLOOD, add_heartbeats)
    result = run_daily_job(UNKNOWN_FLOOD, raise_on_error=False)
    checks = evaluations(result)
    assert failed(checks["raw_events_critical"]) == {"event_type_in_contract"}
    assert failed(checks["raw_events_warnings"]) == {"quarantine_share_low"}
    types = outcome(checks["raw_events_critical"], "event_type_in_contract")
    assert "app_heartbeat" in {s["value"] for s in types["sample"]}
    assert_blocked(result)


def test_a_day_with_5_percent_of_normal_volume_blocks_the_run(world):
    kept = rewrite_landing(world["home"], THIN, lambda lines: (lines[: len(lines) // 20], len(lines) // 20))
    result = run_daily_job(THIN, raise_on_error=False)
    checks = evaluations(result)
    assert failed(checks["raw_events_critical"]) == {"row_count_in_critical_band"}
    assert failed(checks["raw_events_warnings"]) == {"row_count_in_expected_band"}
    band = outcome(checks["raw_events_critical"], "row_count_in_critical_band")
    assert band["observed_value"] == kept
    assert_blocked(result)
    assert query(world["home"], "SELECT count(*) FROM raw.events WHERE dt = ?", [THIN])[0][0] > 0


def test_a_warning_only_failure_is_flagged_but_lets_downstream_run(world):
    def implausible_dwell(lines):
        out, n = [], 0
        for i, line in enumerate(lines):
            event = as_event(line)
            if event and event.get("dwell_ms") is not None and i % 50 == 0:
                event["dwell_ms"], n = 12 * 3_600_000, n + 1  # 12 hours on one page
                line = json.dumps(event)
            out.append(line)
        return out, n

    assert rewrite_landing(world["home"], LONG_DWELL, implausible_dwell)
    result = run_daily_job(LONG_DWELL, raise_on_error=False)
    checks = evaluations(result)
    assert result.success
    assert checks["raw_events_critical"].passed
    assert not checks["raw_events_warnings"].passed
    assert checks["raw_events_warnings"].severity == dg.AssetCheckSeverity.WARN
    assert failed(checks["raw_events_warnings"]) == {"dwell_ms_plausible"}
    assert {FCT_CTR, dg.AssetKey(["marts", "fct_comments"]), dg.AssetKey(["staging", "stg_raw__events"])} \
        <= materialised(result)
    assert checks["fct_ctr_training_critical"].passed


def test_ctr_labels_outside_0_1_stop_the_model_downstream(world):
    """The CTR training mart is corrupted after it was built; its checks, the CTR model and scoring then run."""
    from orchestration.defs.dbt.assets import dbt_daily_models
    from orchestration.defs.models.ctr import ctr_model, ctr_monitoring, ctr_scores
    from orchestration.defs.quality.checks import with_quality_checks
    from orchestration.defs.resources import build_resources

    models = {ctr_model.key, ctr_scores.key}
    gate = dg.define_asset_job(
        "ctr_gate", executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.assets(ctr_model, ctr_scores)
        | dg.AssetSelection.checks(dg.AssetCheckKey(FCT_CTR, "fct_ctr_training_critical"),
                                   dg.AssetCheckKey(FCT_CTR, "fct_ctr_training_warnings")))
    defs = with_quality_checks(dg.Definitions(assets=[dbt_daily_models, ctr_model, ctr_scores, ctr_monitoring],
                                              jobs=[gate], resources=build_resources()))
    job = defs.resolve_job_def("ctr_gate")
    day = GOOD[-1].isoformat()

    clean = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key=day)
    assert clean.success and materialised(clean) == models

    import duckdb
    with duckdb.connect(str(world["home"] / "attnflow.duckdb")) as conn:
        conn.execute("""UPDATE marts.fct_ctr_training SET is_clicked = CASE WHEN is_clicked = 0 THEN 2 ELSE -1 END
                        WHERE impression_id IN (SELECT impression_id FROM marts.fct_ctr_training
                                                WHERE event_date = ? ORDER BY impression_id LIMIT 5)""", [day])
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key=day,
                                    raise_on_error=False)
    checks = evaluations(result)
    assert failed(checks["fct_ctr_training_critical"]) == {"label_is_binary"}
    assert checks["fct_ctr_training_warnings"].passed
    labels = outcome(checks["fct_ctr_training_critical"], "label_is_binary")
    assert labels["unexpected_count"] == 5 and {s["value"] for s in labels["sample"]} <= {2, -1}
    assert not result.success and result.is_node_failed("quality_fct_ctr_training")
    assert materialised(result) == set()  # neither the model nor the scores ran


def test_days_that_failed_a_blocking_check_stay_out_of_later_training(world):
    """Runs after the corrupted-labels test: day 3's rows in the training mart still carry labels 2 and -1 (a
    check stops its run, it does not delete data). A later CTR training over the window must leave that day out,
    and every other day whose latest critical result failed, with the reason; the ledger keeps the history."""
    from orchestration.defs.models.ctr import ctr_model
    from orchestration.defs.resources import build_resources

    home = world["home"]
    ledger = query(home, "SELECT suite, batch, passed FROM quality.check_results WHERE severity = 'critical' "
                         "AND suite IN ('raw_events', 'fct_ctr_training') ORDER BY checked_at")
    latest = {(suite, batch): passed for suite, batch, passed in ledger}  # later results overwrite earlier ones
    assert {b: p for (s, b), p in latest.items() if s == "raw_events"} == {
        **{d.isoformat(): True for d in GOOD}, NULL_USERS.isoformat(): False, UNKNOWN_FLOOD.isoformat(): False,
        THIN.isoformat(): False, LONG_DWELL.isoformat(): True}
    assert latest[("fct_ctr_training", GOOD[-1].isoformat())] is False
    assert query(home, "SELECT count(*) FROM marts.fct_ctr_training WHERE event_date = ? AND is_clicked NOT IN (0, 1)",
                 [GOOD[-1]])[0][0] == 5

    result = dg.materialize([ctr_model], resources=build_resources(), instance=dg.DagsterInstance.ephemeral())
    [event] = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    left_out = meta["left_out_days"].value
    assert left_out[GOOD[-1].isoformat()] == "failed fct_ctr_training: label_is_binary"
    assert left_out[NULL_USERS.isoformat()] == "failed raw_events: user_id_not_null"
    assert left_out[UNKNOWN_FLOOD.isoformat()] == "failed raw_events: event_type_in_contract"
    assert left_out[THIN.isoformat()] == "failed raw_events: row_count_in_critical_band"
    trained_on = {day for days in meta["training_window"].value.values() for day in days}
    assert trained_on == {GOOD[0].isoformat(), GOOD[1].isoformat(), LONG_DWELL.isoformat()}
