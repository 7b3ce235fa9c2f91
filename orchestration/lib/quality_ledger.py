"""The quality ledger: every suite's result per day (batch) in `quality.check_results`, so later runs know which
days failed a blocking check.

A failed critical check stops the rest of its own run but deletes nothing: a day of the CTR training mart that
failed its checks stays in the mart, and tomorrow's model trains on a window of days that includes it. Training
assets therefore leave out every day whose latest critical result failed, until the day is fixed and re-run (its
new, passing result then wins). Plain DuckDB, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json

DDL = """
CREATE SCHEMA IF NOT EXISTS quality;
CREATE TABLE IF NOT EXISTS quality.check_results (
    suite VARCHAR NOT NULL, severity VARCHAR NOT NULL, batch VARCHAR NOT NULL, passed BOOLEAN NOT NULL,
    failed_expectations JSON, rows_validated BIGINT, run_id VARCHAR, checked_at TIMESTAMP NOT NULL
);
"""


def record(conn, suite: str, run_id: str, results: list[tuple[str, str, list[str], int]]) -> None:
    """Append (batch, severity, failed expectation names, rows) results of one suite run."""
    conn.execute(DDL)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    conn.executemany(
        "INSERT INTO quality.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(suite, severity, batch, not failed, json.dumps(failed), rows, run_id, now)
         for batch, severity, failed, rows in results])


def days_failing_critical(conn, suites: list[str]) -> dict[dt.date, str]:
    """Days whose latest critical result of any of `suites` failed -> "suite: expectation, ..." (why)."""
    exists = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'quality' "
                          "AND table_name = 'check_results'").fetchone()[0]
    if not exists or not suites:
        return {}
    rows = conn.execute("""
        SELECT batch, suite, failed_expectations FROM quality.check_results
        WHERE severity = 'critical' AND suite IN (SELECT unnest(?)) AND batch <> 'all'
        QUALIFY row_number() OVER (PARTITION BY suite, batch ORDER BY checked_at DESC) = 1
            AND NOT passed
        ORDER BY batch, suite""", [suites]).fetchall()
    out: dict[dt.date, str] = {}
    for batch, suite, failed in rows:
        day = dt.date.fromisoformat(batch)
        reason = f"{suite}: {', '.join(json.loads(failed))}"
        out[day] = f"{out[day]}; {reason}" if day in out else reason
    return out
