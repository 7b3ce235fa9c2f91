"""Load one landing day of behaviour-log files into DuckDB, routing every contract break to a quarantine table.

Why line by line in SQL: a loader that skips bad JSON (``ignore_errors``) loses data silently. Here each file is
read as raw text lines with their line numbers, classified once, and every line ends up in exactly one of
``raw.events`` (typed) or ``raw.events_quarantine`` (with the reason). Re-loading a day first deletes that day's
rows in the same transaction, so a re-run never duplicates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

EVENT_TYPES = ("impression", "click", "view", "like", "share", "comment", "search", "purchase")
REQUIRED_FIELDS = ("event_id", "event_ts", "event_type", "user_id")
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet",)

# Field -> DuckDB type in raw.events. Every field is first read as text so that a wrongly typed value is caught
# (and quarantined) instead of failing the whole file.
STRING_FIELDS = ("event_id", "event_type", "user_id", "session_hint", "item_id", "ad_id", "campaign_id",
                 "request_id", "device", "network", "geo", "text")
INTEGER_FIELDS = ("slot", "dwell_ms")
COLUMNS = tuple(f for f in STRING_FIELDS if f != "text") + ('"text"', *INTEGER_FIELDS, "properties")

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.events (
    dt DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    event_id VARCHAR NOT NULL,
    event_ts TIMESTAMP NOT NULL,
    event_type VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    session_hint VARCHAR,
    item_id VARCHAR,
    ad_id VARCHAR,
    campaign_id VARCHAR,
    slot INTEGER,
    request_id VARCHAR,
    device VARCHAR,
    network VARCHAR,
    geo VARCHAR,
    dwell_ms BIGINT,
    "text" VARCHAR,
    properties JSON
);
CREATE TABLE IF NOT EXISTS raw.events_quarantine (
    dt DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    raw_line VARCHAR
);
"""


class MissingPartitionError(FileNotFoundError):
    """The landing folder for a day does not exist or holds no event files."""


@dataclass
class LoadReport:
    day: dt.date
    files: list[str]
    lines_read: int = 0
    rows_loaded: int = 0
    late_rows: int = 0
    quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    skipped_missing: bool = False


def partition_dir(events_dir: Path, day: dt.date) -> Path:
    return events_dir / f"dt={day.isoformat()}"


def list_event_files(folder: Path) -> list[Path]:
    """Data files of a landing folder, sorted; names starting with '_' or '.' are markers, not data."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(("_", "."))
        and p.name.endswith(JSON_SUFFIXES + PARQUET_SUFFIXES)
    )


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(DDL)


def _lines_sql(file: Path) -> str:
    """SQL yielding (line_no, line) for a file: 1-based physical line numbers, blank lines kept as NULL."""
    if file.name.endswith(PARQUET_SUFFIXES):
        # Parquet rows are re-serialised to JSON so that both formats share one validation path.
        source = "SELECT to_json(p) AS line FROM read_parquet($file) AS p"
    else:
        # One VARCHAR column per physical line: no quoting, no delimiter, so any text survives untouched.
        # DuckDB keeps the file's row order (insertion order is preserved), which gives line numbers.
        source = ("SELECT line FROM read_csv($file, columns={'line': 'VARCHAR'}, header=false, delim='\x01', "
                  "quote='', escape='', auto_detect=false, strict_mode=false, compression='auto')")
    return f"SELECT $name AS source_file, row_number() OVER () AS line_no, line FROM ({source})"


def _classify_sql(day: dt.date, lateness_days: int) -> str:
    """Parse each staged line once and decide its quarantine reason (NULL = good row); typed fields for good rows.

    It reads the staged ``_lines`` table, not the files: numbering lines (``row_number() OVER ()`` in file order)
    runs on one thread, the parsing and checks here run on all of them."""
    text_struct = "{" + ", ".join(f'"{f}": "VARCHAR"' for f in (*STRING_FIELDS, "event_ts", *INTEGER_FIELDS)) \
        + ', "properties": "JSON"}'
    allowed = ", ".join(f"'{t}'" for t in EVENT_TYPES)
    earliest = day - dt.timedelta(days=lateness_days)
    missing = " ".join(f"WHEN r.{f} IS NULL OR trim(r.{f}) = '' THEN 'missing_required_field:{f}'"
                       for f in REQUIRED_FIELDS)
    bad_int = " ".join(f"WHEN r.{f} IS NOT NULL AND try_cast(r.{f} AS BIGINT) IS NULL "
                       f"THEN 'invalid_field_type:{f}'" for f in INTEGER_FIELDS)
    typed = ", ".join([f"r.{f} AS {f}" for f in STRING_FIELDS if f != "text"] + ['r."text" AS "text"']
                      + [f"try_cast(r.{f} AS BIGINT) AS {f}" for f in INTEGER_FIELDS] + ["r.properties AS properties"])
    return f"""
    WITH parsed AS (
        -- try(): invalid JSON gives NULL instead of failing the file
        SELECT source_file, line_no, line, try(from_json(line, '{text_struct}')) AS r
        FROM _lines
    ), stamped AS (
        SELECT *, timezone('UTC', try_cast(r.event_ts AS TIMESTAMPTZ)) AS ts FROM parsed
    ), decided AS (
        SELECT *,
               -- a line that parsed as JSON is not blank: trim() (slow on long lines) only runs on the others
               CASE WHEN line IS NULL THEN 'empty_line'
                    WHEN r IS NULL THEN CASE WHEN trim(line) = '' THEN 'empty_line' ELSE 'invalid_json' END
                    WHEN left(ltrim(line), 1) <> '{{' THEN 'not_an_object'
                    {missing}
                    WHEN r.event_type NOT IN ({allowed}) THEN 'unknown_event_type:' || left(r.event_type, 40)
                    WHEN ts IS NULL THEN 'invalid_timestamp'
                    WHEN CAST(ts AS DATE) NOT BETWEEN DATE '{earliest}' AND DATE '{day}'
                         THEN 'timestamp_outside_window'
                    {bad_int}
                    WHEN try_cast(r.dwell_ms AS BIGINT) < 0 THEN 'invalid_field_value:dwell_ms'
               END AS reason
        FROM stamped
    )
    SELECT source_file, line_no, reason, CASE WHEN reason IS NOT NULL THEN line END AS raw_line,
           ts AS event_ts, {typed}
    FROM decided
    """


def load_partition(
    conn: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    day: dt.date,
    *,
    lateness_days: int = 1,
    missing: str = "fail",
) -> LoadReport:
    """Replace ``day``'s rows in raw.events / raw.events_quarantine with what its landing folder holds now."""
    folder = partition_dir(landing_dir / "events", day)
    files = list_event_files(folder)
    report = LoadReport(day=day, files=[str(f.relative_to(landing_dir)) for f in files])
    if not files:
        if missing == "skip":
            report.skipped_missing = True
            return report
        raise MissingPartitionError(
            f"No event files for partition {day} in {folder} (expected *.jsonl, *.jsonl.gz or *.parquet). "
            "Set ATTNFLOW_MISSING_PARTITION=skip to treat a missing day as empty."
        )

    conn.execute("SET TimeZone = 'UTC'")
    ensure_raw_tables(conn)
    conn.execute("CREATE OR REPLACE TEMP TABLE _lines (source_file VARCHAR, line_no BIGINT, line VARCHAR)")
    for file, name in zip(files, report.files):
        conn.execute(f"INSERT INTO _lines {_lines_sql(file)}", {"file": str(file), "name": name})
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _classified AS {_classify_sql(day, lateness_days)}")
    conn.execute("DROP TABLE _lines")

    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM raw.events WHERE dt = ?", [day])
        conn.execute("DELETE FROM raw.events_quarantine WHERE dt = ?", [day])
        conn.execute(
            f"INSERT INTO raw.events (dt, source_file, line_no, event_ts, {', '.join(COLUMNS)}) "
            f"SELECT DATE '{day}', source_file, line_no, event_ts, {', '.join(COLUMNS)} FROM _classified "
            "WHERE reason IS NULL"
        )
        conn.execute(
            "INSERT INTO raw.events_quarantine SELECT ?, source_file, line_no, reason, raw_line "
            "FROM _classified WHERE reason IS NOT NULL",
            [day],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise

    report.lines_read = conn.execute("SELECT count(*) FROM _classified").fetchone()[0]
    report.rows_loaded, report.late_rows = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE CAST(event_ts AS DATE) < dt) FROM raw.events WHERE dt = ?", [day]
    ).fetchone()
    reasons = conn.execute(
        "SELECT split_part(reason, ':', 1) || CASE WHEN reason LIKE 'unknown_event_type:%' THEN '' "
        "ELSE coalesce(':' || nullif(split_part(reason, ':', 2), ''), '') END AS r, count(*) "
        "FROM raw.events_quarantine WHERE dt = ? GROUP BY r ORDER BY r", [day]
    ).fetchall()
    report.quarantine_reasons = {r: n for r, n in reasons}
    report.quarantined = sum(report.quarantine_reasons.values())
    conn.execute("DROP TABLE IF EXISTS _classified")
    return report
