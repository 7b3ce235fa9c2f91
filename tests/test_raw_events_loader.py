"""The raw-log loader on hand-written files: every line lands in exactly one table, with the right reason."""

import datetime as dt
import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.raw_events_loader import MissingPartitionError, load_partition

DAY = dt.date(2026, 3, 2)


def good(event_id: str, ts: str = "2026-03-02T10:00:00.000Z", **extra) -> dict:
    return {"event_id": event_id, "event_ts": ts, "event_type": "view", "user_id": "u1", "item_id": "i1",
            "dwell_ms": 1500, "properties": {"topic": "music"}, **extra}


LINES = [
    json.dumps(good("e1")),                                                       # 1 good
    json.dumps(good("e2", ts="2026-03-01T23:59:00Z")),                            # 2 good, late (D-1)
    "",                                                                           # 3 empty
    '{"event_id": "e3", "event_ts": ',                                            # 4 truncated JSON
    "[1, 2, 3]",                                                                  # 5 not an object
    json.dumps({**good("e4"), "event_type": "hover"}),                            # 6 unknown type
    json.dumps({k: v for k, v in good("e5").items() if k != "user_id"}),          # 7 missing user_id
    json.dumps(good("e6", ts="2026-02-27T10:00:00Z")),                            # 8 too late
    json.dumps(good("e7", ts="2026-03-03T00:00:01Z")),                            # 9 from the future
    json.dumps(good("e8", ts="yesterday")),                                       # 10 bad timestamp
    json.dumps({**good("e9"), "dwell_ms": "long"}),                               # 11 wrongly typed
    json.dumps({**good("e10"), "dwell_ms": -5}),                                  # 12 negative dwell
    json.dumps(good("e1")),                                                       # 13 duplicate delivery: kept raw
]
EXPECTED_REASONS = {
    3: "empty_line", 4: "invalid_json", 5: "not_an_object", 6: "unknown_event_type:hover",
    7: "missing_required_field:user_id", 8: "timestamp_outside_window", 9: "timestamp_outside_window",
    10: "invalid_timestamp", 11: "invalid_field_type:dwell_ms", 12: "invalid_field_value:dwell_ms",
}


def write_day(landing: Path, name: str, lines: list[str], day: dt.date = DAY) -> Path:
    folder = landing / "events" / f"dt={day}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("file_name", ["part-0.jsonl", "part-0.jsonl.gz"])
def test_every_line_is_loaded_or_quarantined_with_its_reason(tmp_path, file_name):
    write_day(tmp_path, file_name, LINES)
    conn = duckdb.connect()
    report = load_partition(conn, tmp_path, DAY)

    loaded = conn.execute("SELECT line_no, event_id FROM raw.events ORDER BY line_no").fetchall()
    assert loaded == [(1, "e1"), (2, "e2"), (13, "e1")]
    quarantined = dict(conn.execute("SELECT line_no, reason FROM raw.events_quarantine").fetchall())
    assert quarantined == EXPECTED_REASONS
    assert report.lines_read == len(LINES) == len(loaded) + len(quarantined)
    assert report.late_rows == 1
    assert report.quarantine_reasons["timestamp_outside_window"] == 2
    # the offending line is kept verbatim for diagnosis
    raw_line = conn.execute("SELECT raw_line FROM raw.events_quarantine WHERE line_no = 4").fetchone()[0]
    assert raw_line == LINES[3]
    row = conn.execute("SELECT event_ts, dwell_ms, properties->>'topic', source_file FROM raw.events "
                       "WHERE line_no = 1").fetchone()
    assert row == (dt.datetime(2026, 3, 2, 10, 0), 1500, "music", f"events/dt={DAY}/{file_name}")


def test_reloading_a_day_replaces_it_without_duplicates(tmp_path):
    write_day(tmp_path, "part-0.jsonl", LINES)
    conn = duckdb.connect()
    load_partition(conn, tmp_path, DAY)
    first = conn.execute("SELECT * FROM raw.events ORDER BY line_no").fetchall()
    load_partition(conn, tmp_path, DAY)
    assert conn.execute("SELECT * FROM raw.events ORDER BY line_no").fetchall() == first
    assert conn.execute("SELECT count(*) FROM raw.events_quarantine").fetchone()[0] == len(EXPECTED_REASONS)


def test_other_days_are_untouched(tmp_path):
    other = DAY + dt.timedelta(days=1)
    write_day(tmp_path, "a.jsonl", [json.dumps(good("x1"))])
    write_day(tmp_path, "a.jsonl", [json.dumps(good("y1", ts=f"{other}T08:00:00Z"))], day=other)
    conn = duckdb.connect()
    load_partition(conn, tmp_path, DAY)
    load_partition(conn, tmp_path, other)
    load_partition(conn, tmp_path, DAY)
    assert conn.execute("SELECT dt, event_id FROM raw.events ORDER BY dt").fetchall() == [(DAY, "x1"), (other, "y1")]


def test_parquet_files_share_the_same_contract(tmp_path):
    folder = tmp_path / "events" / f"dt={DAY}"
    folder.mkdir(parents=True)
    rows = [good("p1"), {**good("p2"), "event_type": "scroll_depth"}, {**good("p3"), "user_id": None}]
    for r in rows:
        r["properties"] = json.dumps(r["properties"])
    pd.DataFrame(rows).to_parquet(folder / "part-0.parquet")
    conn = duckdb.connect()
    report = load_partition(conn, tmp_path, DAY)
    assert report.rows_loaded == 1
    assert report.quarantine_reasons == {"missing_required_field:user_id": 1, "unknown_event_type": 1}


def test_missing_partition_fails_clearly_or_skips_when_configured(tmp_path):
    conn = duckdb.connect()
    with pytest.raises(MissingPartitionError, match="No event files for partition 2026-03-02"):
        load_partition(conn, tmp_path, DAY)
    report = load_partition(conn, tmp_path, DAY, missing="skip")
    assert report.skipped_missing and report.rows_loaded == 0


def test_marker_files_are_not_data(tmp_path):
    path = write_day(tmp_path, "part-0.jsonl", [json.dumps(good("m1"))])
    (path.parent / "_SUCCESS").write_text("")
    (path.parent / ".part-1.jsonl.crc").write_text("junk")
    report = load_partition(duckdb.connect(), tmp_path, DAY)
    assert report.files == [f"events/dt={DAY}/part-0.jsonl"] and report.quarantined == 0
