"""The daily partitioning every log-derived asset shares: one partition per landing day (UTC)."""

import datetime as dt

import dagster as dg

from orchestration.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(start_date=load_settings().start_date.isoformat(), timezone="UTC")

# Backfills of a date range run as one run: one dbt invocation over the whole window, one DuckDB writer.
single_run_backfill = dg.BackfillPolicy.single_run()

# Every asset that writes the DuckDB file takes a slot in this pool (limit 1 in dagster.yaml): one writer at a time.
DUCKDB_WRITER_POOL = "duckdb_writer"


def event_days_to_rescore(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """Event days a partitioned scoring asset (re)writes: the run's landing days and the day before, which
    late events can still change."""
    window = context.partition_time_window
    lateness = dt.timedelta(days=load_settings().lateness_days)
    return window.start.date() - lateness, window.end.date() - dt.timedelta(days=1)
