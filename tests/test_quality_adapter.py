"""The Great Expectations adapter on small DataFrames and a tiny DuckDB: evidence, severities, parameters, readers."""

import datetime as dt
import decimal
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.lib.gx_data import PARAMETER_PROVIDERS, read_batch, row_count_band, suite_parameters
from orchestration.lib.gx_runner import GxRunner, evidence, markdown_report, sanitize
from orchestration.lib.gx_suites import EXPECTATIONS_DIR, PROVIDED_PARAMETERS, read_suite_file
from orchestration.lib.raw_events_loader import load_partition

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def runner():
    return GxRunner()  # a fresh in-memory context (cheap once Great Expectations is imported)


def suite_file(folder: Path, expectations: list[dict], **attnflow) -> Path:
    binding = {"asset_key": ["tiny"], "read": {"table": "main.tiny"}, "partition": None,
               "row_id_columns": ["file", "line"], **attnflow}
    doc = {"name": "tiny", "meta": {"attnflow": binding}, "expectations": expectations}
    path = folder / "tiny.json"
    path.write_text(json.dumps(doc))
    return path


def exp(name, type_, severity="critical", min_rows=0, **kwargs):
    meta = {"name": name, "severity": severity}
    if min_rows:
        meta["min_rows"] = min_rows
    return {"type": type_, "kwargs": kwargs, "meta": meta}


FRAME = pd.DataFrame({
    "file": ["a.jsonl"] * 4 + ["b.jsonl"],
    "line": np.array([1, 2, 3, 4, 1], dtype=np.int64),
    "user_id": ["u1", None, "u3", np.nan, "u5"],
    "event_type": ["view", "hover", None, "view", "scroll"],
    "dwell_ms": [100.0, np.nan, 250.0, 50.0, 600.0],
    "event_ts": pd.to_datetime(["2026-03-02 10:00", "2026-03-01 23:00", "2026-03-03 00:00", None,
                                "2026-02-20 08:00"]),
})


def test_observed_values_counts_and_json_safe_samples(tmp_path, runner):
    suite = read_suite_file(suite_file(tmp_path, [
        exp("user_id_not_null", "expect_column_values_to_not_be_null", column="user_id", mostly=0.9),
        exp("event_type_known", "expect_column_values_to_be_in_set", "warning", column="event_type",
            value_set=["view", "click"]),
        exp("dwell_mean", "expect_column_mean_to_be_between", "warning", column="dwell_ms", min_value=0,
            max_value=200),
        exp("rows", "expect_table_row_count_to_be_between", min_value=1, max_value=10),
    ]))
    result = runner.validate(suite, FRAME)
    assert result.rows == 5
    nulls = result.outcome("user_id_not_null")
    assert (nulls.success, nulls.unexpected_count, nulls.unexpected_percent, nulls.element_count) == (False, 2, 40.0, 5)
    # NaN / None in GE's partial_unexpected_list become null; each offending value comes with its row ids.
    assert nulls.sample == [{"value": None, "file": "a.jsonl", "line": 2},
                            {"value": None, "file": "a.jsonl", "line": 4}]
    types = result.outcome("event_type_known")
    assert (types.success, types.unexpected_count, types.missing_count) == (False, 2, 1)
    assert [s["value"] for s in types.sample] == ["hover", "scroll"]
    assert types.unexpected_percent == pytest.approx(50.0)  # GE's percent is of the non-missing values
    mean = result.outcome("dwell_mean")
    assert not mean.success and mean.observed_value == pytest.approx(250.0)
    rows = result.outcome("rows")
    assert rows.success and rows.observed_value == 5
    # The whole evidence is valid JSON (no NaN) and survives a round trip.
    for severity in ("critical", "warning"):
        payload = evidence([result], severity)
        assert json.loads(json.dumps(payload, allow_nan=False)) == payload


def test_severity_split_critical_and_warning_evidence(tmp_path, runner):
    suite = read_suite_file(suite_file(tmp_path, [
        exp("user_id_not_null", "expect_column_values_to_not_be_null", column="user_id", mostly=0.5),
        exp("rows", "expect_table_row_count_to_be_between", min_value=10),
        exp("event_type_known", "expect_column_values_to_be_in_set", "warning", column="event_type",
            value_set=["view"]),
        exp("dwell_max", "expect_column_max_to_be_between", "warning", column="dwell_ms", max_value=1000),
    ]))
    result = runner.validate(suite, FRAME, batch="2026-03-02")
    assert [o.name for o in result.failed("critical")] == ["rows"]
    assert [o.name for o in result.failed("warning")] == ["event_type_known"]
    critical, warning = evidence([result], "critical"), evidence([result], "warning")
    assert (critical["passed"], critical["failed_expectations"], critical["evaluated"]) == (False, ["rows"], 2)
    assert (warning["passed"], warning["failed_expectations"]) == (False, ["event_type_known"])
    assert [e["name"] for e in critical["results"][0]["expectations"]] == ["user_id_not_null", "rows"]
    table = critical["markdown"].splitlines()
    assert table[2].startswith("| 2026-03-02 | **rows**") and "❌ FAIL" in table[2]  # failures first
    assert "event_type_known" not in critical["markdown"]


def test_suite_parameters_are_supplied_at_validation_time(tmp_path, runner):
    suite = read_suite_file(suite_file(tmp_path, [
        exp("ts_in_window", "expect_column_values_to_be_between", column="event_ts", strict_max=True,
            min_value={"$PARAMETER": "window_start"}, max_value={"$PARAMETER": "window_end"}),
        exp("rows_in_band", "expect_table_row_count_to_be_between", "warning",
            min_value={"$PARAMETER": "row_count_min_warning"}, max_value={"$PARAMETER": "row_count_max_warning"}),
    ], partition={"column": "day"},
        parameters={"partition_window": {}, "row_count_band": {"bands": {"warning": [0.5, 2]}}}))
    wide = {"window_start": dt.datetime(2026, 2, 1), "window_end": dt.datetime(2026, 4, 1),
            "row_count_min_warning": 3, "row_count_max_warning": 8}
    assert not runner.validate(suite, FRAME, wide).failed()
    day = {"window_start": dt.datetime(2026, 3, 1), "window_end": dt.datetime(2026, 3, 3),
           "row_count_min_warning": 6, "row_count_max_warning": None}
    result = runner.validate(suite, FRAME, day)
    window = result.outcome("ts_in_window")
    assert not window.success and window.unexpected_count == 2  # 03-03 00:00 (end is exclusive) and 02-20
    assert sorted(s["value"] for s in window.sample) == ["2026-02-20T08:00:00", "2026-03-03T00:00:00"]
    assert window.expected.startswith("min_value=2026-03-01T00:00:00, max_value=2026-03-03T00:00:00")
    assert result.outcome("rows_in_band").observed_value == 5 and not result.outcome("rows_in_band").success
    assert result.parameters["window_start"] == "2026-03-01T00:00:00"  # JSON-safe copy in the evidence


def test_expectations_below_min_rows_are_reported_skipped_not_failed(tmp_path, runner):
    suite = read_suite_file(suite_file(tmp_path, [
        exp("ctr_band", "expect_column_mean_to_be_between", min_rows=100, column="dwell_ms", min_value=1000),
        exp("not_null", "expect_column_values_to_not_be_null", column="user_id"),
    ]))
    result = runner.validate(suite, FRAME)
    skipped = result.outcome("ctr_band")
    assert skipped.success and "5 rows < min_rows 100" in skipped.skipped
    assert [o.name for o in result.failed()] == ["not_null"]
    assert evidence([result], "critical")["evaluated"] == 1
    assert "skipped" in markdown_report([result], "critical")


def test_sanitize_makes_anything_json_safe():
    value = {"nan": float("nan"), "np_nan": np.float64("nan"), "inf": float("inf"), "nat": pd.NaT,
             "ts": pd.Timestamp("2026-03-02 10:00"), "date": dt.date(2026, 3, 2), "i": np.int64(3),
             "b": np.bool_(True), "dec": decimal.Decimal("1.5"), "set": {"b", "a"}, "bytes": b"x",
             "nested": [np.nan, {"k": np.float32(0.5)}], "na": pd.NA, "long": "y" * 500, "delta": pd.Timedelta("1h")}
    clean = sanitize(value)
    text = json.dumps(clean, allow_nan=False)
    assert clean["nan"] is None and clean["np_nan"] is None and clean["inf"] is None and clean["nat"] is None
    assert clean["ts"] == "2026-03-02T10:00:00" and clean["date"] == "2026-03-02"
    assert clean["i"] == 3 and clean["b"] is True and clean["dec"] == 1.5 and clean["set"] == ["a", "b"]
    assert clean["nested"] == [None, {"k": 0.5}] and clean["na"] is None and len(clean["long"]) == 80
    assert json.loads(text) == clean


def write_landing(landing: Path, day: dt.date, lines: list[str]) -> None:
    folder = landing / "events" / f"dt={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.jsonl").write_text("\n".join(lines) + "\n")


def event(event_id, ts="2026-03-02T10:00:00Z", **extra):
    return json.dumps({"event_id": event_id, "event_ts": ts, "event_type": "view", "user_id": "u1",
                       "item_id": "i1", "dwell_ms": 1500, **extra})


def test_raw_events_are_validated_on_everything_that_landed_quarantine_included(tmp_path, runner):
    suite = read_suite_file(EXPECTATIONS_DIR / "raw_events.json")
    yesterday = DAY - dt.timedelta(days=1)
    write_landing(tmp_path, yesterday, [event(f"y{i}", ts="2026-03-01T09:00:00Z") for i in range(8)])
    write_landing(tmp_path, DAY, [
        event("e1"), event("e2", ts="2026-03-01T23:00:00Z"), event("e3", dwell_ms=90_000_000),
        json.dumps({"event_id": "e4", "event_ts": "2026-03-02T11:00:00Z", "event_type": "view", "user_id": None}),
        event("e5", event_type="heartbeat"),
        '{"event_id": "e6", "event_ts": ',  # truncated JSON: nothing extractable
        event("e7", ts="2026-02-20T10:00:00Z"),  # outside the window
    ])
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in (yesterday, DAY):
        load_partition(conn, tmp_path, day)

    df = read_batch(conn, suite, DAY)
    assert len(df) == 7  # every line that landed: 3 in raw.events, 4 quarantined
    by_line = df.set_index("line_no")
    assert by_line["quarantine_reason"].isna().sum() == 3
    assert by_line.loc[4, "quarantine_reason"] == "missing_required_field:user_id"
    assert by_line.loc[4, "event_id"] == "e4" and pd.isna(by_line.loc[4, "user_id"])
    assert by_line.loc[5, "event_type"] == "heartbeat"  # extracted from raw_line
    assert by_line.loc[6, ["event_id", "event_ts", "event_type", "user_id"]].isna().all()
    assert by_line.loc[7, "event_ts"] == pd.Timestamp("2026-02-20 10:00")

    params = suite_parameters(conn, suite, DAY, lateness_days=1)
    declared = set().union(*(PROVIDED_PARAMETERS[k](cfg) for k, cfg in suite.binding.parameters.items()))
    assert set(params) == declared and set(PROVIDED_PARAMETERS) == set(PARAMETER_PROVIDERS)
    assert params["window_start"] == dt.datetime(2026, 3, 1) and params["window_end"] == dt.datetime(2026, 3, 3)
    assert params["row_count_trailing_average"] == 8
    assert (params["row_count_min_critical"], params["row_count_max_critical"]) == (1, 41)
    assert (params["row_count_min_warning"], params["row_count_max_warning"]) == (4, 17)

    result = runner.validate(suite, df, params, batch=str(DAY))
    assert {o.name for o in result.failed()} == {
        "event_id_not_null", "event_ts_not_null", "event_type_not_null", "user_id_not_null",  # e6 (and e4)
        "event_type_in_contract", "event_ts_in_partition_window",  # e5, e7
        "dwell_ms_plausible", "quarantine_share_low",
    }
    user = result.outcome("user_id_not_null")
    assert user.unexpected_count == 2
    assert {s["line_no"] for s in user.sample} == {4, 6}
    assert all(s["source_file"] == f"events/dt={DAY}/part-0.jsonl" for s in user.sample)


def test_row_count_band_is_open_without_history(tmp_path):
    suite = read_suite_file(EXPECTATIONS_DIR / "raw_events.json")
    write_landing(tmp_path, DAY, [event("e1")])
    conn = duckdb.connect()
    load_partition(conn, tmp_path, DAY)
    band = row_count_band(conn, suite, DAY, suite.binding.parameters["row_count_band"], lateness_days=1)
    assert band["row_count_trailing_average"] is None
    assert (band["row_count_min_critical"], band["row_count_max_critical"]) == (0, None)


def test_data_docs_are_built_into_the_reports_folder_and_accumulate(tmp_path):
    suite = read_suite_file(suite_file(tmp_path, [
        exp("user_id_not_null", "expect_column_values_to_not_be_null", column="user_id")]))
    reports = tmp_path / "reports"
    pages = []
    for run_name in ("run1", "run2"):
        docs = GxRunner(reports_dir=reports, run_name=run_name, suites_dir=tmp_path)
        pages.append(docs.validate(suite, FRAME, batch="2026-03-02").docs_page)
        index = docs.build_docs()
    assert index == (reports / "data_docs" / "index.html").as_uri()
    html = (reports / "data_docs" / "index.html").read_text()
    for page in pages:
        path = Path(page.removeprefix("file://"))
        assert path.is_file() and path.is_relative_to(reports / "data_docs")
        assert path.relative_to(reports / "data_docs").as_posix() in html  # both runs listed


def test_batches_get_dtypes_great_expectations_compares_vectorised():
    """DuckDB hands back datetime64[us] and nullable Int64; GE's range checks would call Python per value."""
    import numpy as np
    import pandas as pd

    from orchestration.lib.gx_data import vectorisable

    df = pd.DataFrame({"ts": pd.Series(pd.to_datetime(["2026-03-01 10:00", None])).astype("datetime64[us]"),
                       "dwell": pd.array([12, None], dtype="Int64"), "name": ["a", None]})
    out = vectorisable(df)
    assert str(out["ts"].dtype) == "datetime64[ns]" and out["ts"].iloc[0] == pd.Timestamp("2026-03-01 10:00")
    assert out["dwell"].dtype == np.float64 and out["dwell"].iloc[0] == 12 and np.isnan(out["dwell"].iloc[1])
    assert out["name"].tolist() == ["a", None]
