"""Helpers for tests that run the real pipeline: execute the daily job and read the DuckDB file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb


def run_daily_job(first: dt.date, last: dt.date | None = None, run_config: dict | None = None, raise_on_error=True):
    """Materialise every asset of the daily job for first..last as one run (a single-run backfill)."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.definitions import defs

    last = last or first
    job = defs.resolve_job_def("attnflow_daily")
    tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), tags=tags, run_config=run_config,
                                  raise_on_error=raise_on_error)


def query(home: Path, sql: str, params=None):
    with duckdb.connect(str(home / "attnflow.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def table_snapshot(home: Path, table: str, order_by: str) -> list[tuple]:
    return query(home, f"SELECT * FROM {table} ORDER BY {order_by}")
