"""The quality ledger: the latest critical result per suite and day decides whether a day may be trained on."""

import datetime as dt
import time

import duckdb

from orchestration.lib.quality_ledger import days_failing_critical, record

D1, D2, D3 = "2026-03-01", "2026-03-02", "2026-03-03"


def test_latest_critical_result_per_suite_and_day_wins():
    conn = duckdb.connect()
    assert days_failing_critical(conn, ["raw_events"]) == {}  # no ledger yet: nothing fails
    record(conn, "raw_events", "run1", [(D1, "critical", [], 100), (D2, "critical", ["user_id_not_null"], 90),
                                        (D3, "critical", [], 80), (D3, "warning", ["dwell_ms_plausible"], 80)])
    record(conn, "fct_ctr_training", "run1", [(D2, "critical", ["label_is_binary"], 10),
                                              ("all", "critical", ["x"], 5)])
    assert days_failing_critical(conn, ["raw_events", "fct_ctr_training"]) == {
        dt.date(2026, 3, 2): "fct_ctr_training: label_is_binary; raw_events: user_id_not_null"}
    assert days_failing_critical(conn, ["fct_comments"]) == {}  # other suites (and warnings) do not count
    time.sleep(0.01)
    record(conn, "raw_events", "run2", [(D2, "critical", [], 95)])  # the day was fixed and re-run
    assert days_failing_critical(conn, ["raw_events"]) == {}
    assert days_failing_critical(conn, ["raw_events", "fct_ctr_training"]) == {
        dt.date(2026, 3, 2): "fct_ctr_training: label_is_binary"}
    time.sleep(0.01)
    record(conn, "raw_events", "run3", [(D1, "critical", ["row_count_in_critical_band"], 5)])
    assert set(days_failing_critical(conn, ["raw_events"])) == {dt.date(2026, 3, 1)}
    assert conn.execute("SELECT count(*) FROM quality.check_results").fetchone()[0] == 8  # history is kept
