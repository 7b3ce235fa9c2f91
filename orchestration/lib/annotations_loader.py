"""Load the labelling queue's CSV exports (comment event_id -> label) into DuckDB, quarantining unusable rows.

Annotations are small and arrive out of step with the logs, so the table is rebuilt whole from every file on each
run: re-running is idempotent and a corrected export simply replaces the old labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

COLUMNS = ("event_id", "label", "annotator_id", "annotated_at")

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE OR REPLACE TABLE raw.annotations (
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    event_id VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    annotator_id VARCHAR,
    annotated_at TIMESTAMP
);
CREATE OR REPLACE TABLE raw.annotations_quarantine (
    source_file VARCHAR NOT NULL,
    line_no BIGINT NOT NULL,
    reason VARCHAR NOT NULL,
    event_id VARCHAR,
    label VARCHAR
);
"""


@dataclass
class AnnotationsReport:
    files: list[str]
    rows_loaded: int = 0
    quarantined: int = 0
    labels: dict[str, int] = field(default_factory=dict)


def load_annotations(conn: duckdb.DuckDBPyConnection, landing_dir: Path) -> AnnotationsReport:
    """Rebuild raw.annotations from ``<landing>/annotations/*.csv`` (header: event_id,label,annotator_id,annotated_at)."""
    folder = landing_dir / "annotations"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    report = AnnotationsReport(files=[str(f.relative_to(landing_dir)) for f in files])
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(DDL)
        for file, name in zip(files, report.files):
            header = conn.execute(
                "SELECT * FROM read_csv(?, all_varchar=true, header=true) LIMIT 0", [str(file)]
            ).description
            missing = [c for c in ("event_id", "label") if c not in {d[0] for d in header}]
            if missing:
                raise ValueError(f"{name}: annotation file lacks column(s) {missing}; expected header {COLUMNS}")
            conn.execute(
                """
                CREATE OR REPLACE TEMP TABLE _rows AS
                SELECT ? AS source_file, row_number() OVER () + 1 AS line_no, *
                FROM read_csv(?, all_varchar=true, header=true, union_by_name=true)
                """,
                [name, str(file)],
            )
            optional = {c: (c if c in {d[0] for d in header} else "NULL") for c in ("annotator_id", "annotated_at")}
            conn.execute(
                f"""
                INSERT INTO raw.annotations
                SELECT source_file, line_no, trim(event_id), trim(label), {optional['annotator_id']},
                       try_cast({optional['annotated_at']} AS TIMESTAMPTZ)
                FROM _rows WHERE nullif(trim(event_id), '') IS NOT NULL AND nullif(trim(label), '') IS NOT NULL
                """
            )
            conn.execute(
                """
                INSERT INTO raw.annotations_quarantine
                SELECT source_file, line_no,
                       CASE WHEN nullif(trim(event_id), '') IS NULL THEN 'missing_event_id' ELSE 'missing_label' END,
                       event_id, label
                FROM _rows WHERE nullif(trim(event_id), '') IS NULL OR nullif(trim(label), '') IS NULL
                """
            )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    report.rows_loaded = conn.execute("SELECT count(*) FROM raw.annotations").fetchone()[0]
    report.quarantined = conn.execute("SELECT count(*) FROM raw.annotations_quarantine").fetchone()[0]
    report.labels = dict(conn.execute(
        "SELECT lower(label), count(*) FROM raw.annotations GROUP BY 1 ORDER BY 1").fetchall())
    conn.execute("DROP TABLE IF EXISTS _rows")
    return report
