"""Pure helpers: partition window -> dbt vars, landing fingerprints, settings, annotations loader."""

import datetime as dt
import json

import duckdb
import pytest

from orchestration.lib.annotations_loader import load_annotations
from orchestration.lib.dbt_vars import dbt_vars_arg, dbt_vars_for_window
from orchestration.lib.landing import landed_partitions
from orchestration.settings import load_settings


def test_window_vars_cover_the_whole_half_open_window():
    start, end = dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 4)
    assert dbt_vars_for_window(start, end) == {"min_date": "2026-03-01", "max_date": "2026-03-03"}
    assert json.loads(dbt_vars_arg(start, dt.datetime(2026, 3, 2))[1]) == {"min_date": "2026-03-01",
                                                                          "max_date": "2026-03-01"}
    with pytest.raises(ValueError, match="empty partition window"):
        dbt_vars_for_window(start, start)


def test_landing_fingerprint_changes_only_when_files_change(tmp_path):
    events = tmp_path / "events"
    (events / "dt=2026-03-01").mkdir(parents=True)
    (events / "dt=2026-03-02").mkdir()  # empty folder: not landed
    (events / "not-a-partition").mkdir()
    part = events / "dt=2026-03-01" / "part-0.jsonl"
    part.write_text('{"a": 1}\n')
    first = landed_partitions(events)
    assert list(first) == [dt.date(2026, 3, 1)]
    assert landed_partitions(events) == first
    part.write_text('{"a": 1}\n{"a": 2}\n')
    assert landed_partitions(events)[dt.date(2026, 3, 1)] != first[dt.date(2026, 3, 1)]


def test_settings_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTNFLOW_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("ATTNFLOW_DUCKDB_PATH", raising=False)
    settings = load_settings()
    assert settings.duckdb_path == tmp_path / "h" / "attnflow.duckdb"
    assert settings.events_dir == tmp_path / "h" / "landing" / "events"
    monkeypatch.setenv("ATTNFLOW_MISSING_PARTITION", "ignore")
    with pytest.raises(ValueError, match="ATTNFLOW_MISSING_PARTITION"):
        load_settings()


def test_annotations_are_rebuilt_and_bad_rows_quarantined(tmp_path):
    folder = tmp_path / "annotations"
    folder.mkdir()
    (folder / "a.csv").write_text("event_id,label,annotator_id,annotated_at\n"
                                  "c1,positive,ann1,2026-03-01T10:00:00Z\n,neutral,ann2,\nc2,,ann1,\n")
    (folder / "b.csv").write_text("event_id,label\nc3,Negative\n")
    conn = duckdb.connect()
    report = load_annotations(conn, tmp_path)
    assert (report.rows_loaded, report.quarantined) == (2, 2)
    assert conn.execute("SELECT line_no, reason FROM raw.annotations_quarantine ORDER BY line_no").fetchall() == [
        (3, "missing_event_id"), (4, "missing_label")]
    load_annotations(conn, tmp_path)
    assert conn.execute("SELECT count(*) FROM raw.annotations").fetchone()[0] == 2
    (folder / "c.csv").write_text("id,text\n1,x\n")
    with pytest.raises(ValueError, match="lacks column"):
        load_annotations(conn, tmp_path)
    assert conn.execute("SELECT count(*) FROM raw.annotations").fetchone()[0] == 2  # rolled back, nothing lost
