"""Load the wellbeing-survey CSV exports (`<landing>/surveys/*.csv`) into DuckDB, quarantining unusable answers.

Survey answers are the labels of the engagement-health model, so a bad row must never turn into a wrong label:
an answer with a missing id or user, an unreadable time, an item that is blank or outside 1..5, or a total that is
not the sum of its items goes to `raw.surveys_quarantine` with the reason. The files are small and a corrected
export may replace an old one, so both tables are rebuilt whole on every run (idempotent), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

ITEMS = tuple(f"item_{k}" for k in range(1, 7))
REQUIRED = ("response_id", "user_id", "answered_at", *ITEMS, "total_score")
ITEM_RANGE = (1, 5)

DDL = f"""
CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TABLE raw.surveys (
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    response_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    answered_at TIMESTAMP NOT NULL,  -- UTC
    instrument VARCHAR,
    {", ".join(f"{item} INTEGER NOT NULL" for item in ITEMS)},
    total_score INTEGER NOT NULL
);
CREATE OR REPLACE TABLE raw.surveys_quarantine (
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    response_id VARCHAR,
    user_id VARCHAR
);
"""

_ITEM_OK = " AND ".join(f"coalesce(try_cast(trim({i}) AS INTEGER) BETWEEN {ITEM_RANGE[0]} AND {ITEM_RANGE[1]}, false)"
                        for i in ITEMS)
_ITEM_SUM = " + ".join(f"try_cast(trim({i}) AS INTEGER)" for i in ITEMS)
# The first failing rule names the row's reason; NULL means the row is usable.
_REASON = f"""
    CASE WHEN nullif(trim(response_id), '') IS NULL THEN 'missing_response_id'
         WHEN nullif(trim(user_id), '') IS NULL THEN 'missing_user_id'
         WHEN try_cast(trim(answered_at) AS TIMESTAMPTZ) IS NULL THEN 'bad_answered_at'
         WHEN NOT ({_ITEM_OK}) THEN 'item_out_of_range'
         WHEN try_cast(trim(total_score) AS INTEGER) IS DISTINCT FROM ({_ITEM_SUM}) THEN 'score_mismatch'
    END"""


@dataclass
class SurveysReport:
    files: list[str]
    rows_loaded: int = 0
    quarantined: int = 0
    quarantine_reasons: dict[str, int] | None = None


def load_surveys(conn: duckdb.DuckDBPyConnection, landing_dir: Path) -> SurveysReport:
    """Rebuild raw.surveys and raw.surveys_quarantine from every ``<landing>/surveys/*.csv``.

    A file without the required columns fails the load (nothing is replaced): that is a broken export, not a bad
    row."""
    folder = landing_dir / "surveys"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    report = SurveysReport(files=[str(f.relative_to(landing_dir)) for f in files])
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(DDL)
        for file, name in zip(files, report.files):
            _load_file(conn, file, name)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("DROP TABLE IF EXISTS _survey_rows")
    report.rows_loaded = conn.execute("SELECT count(*) FROM raw.surveys").fetchone()[0]
    report.quarantined = conn.execute("SELECT count(*) FROM raw.surveys_quarantine").fetchone()[0]
    report.quarantine_reasons = dict(conn.execute(
        "SELECT reason, count(*) FROM raw.surveys_quarantine GROUP BY 1 ORDER BY 1").fetchall())
    return report


def _load_file(conn: duckdb.DuckDBPyConnection, file: Path, name: str) -> None:
    header = {d[0] for d in conn.execute(
        "SELECT * FROM read_csv(?, all_varchar=true, header=true) LIMIT 0", [str(file)]).description}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{name}: survey file lacks column(s) {missing}; expected at least {REQUIRED}")
    instrument = "instrument" if "instrument" in header else "NULL"
    conn.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _survey_rows AS
        SELECT ? AS source_file, row_number() OVER () + 1 AS line_no, *, {_REASON} AS reason
        FROM read_csv(?, all_varchar=true, header=true)
        """,
        [name, str(file)],
    )
    conn.execute(
        f"""
        INSERT INTO raw.surveys
        SELECT source_file, line_no, trim(response_id), trim(user_id), timezone('UTC', CAST(trim(answered_at) AS TIMESTAMPTZ)),
               {instrument}, {", ".join(f"CAST(trim({i}) AS INTEGER)" for i in ITEMS)},
               CAST(trim(total_score) AS INTEGER)
        FROM _survey_rows WHERE reason IS NULL
        """
    )
    conn.execute(
        """
        INSERT INTO raw.surveys_quarantine
        SELECT source_file, line_no, reason, response_id, user_id FROM _survey_rows WHERE reason IS NOT NULL
        """
    )
