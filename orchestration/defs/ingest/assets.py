"""Landing files -> DuckDB raw tables. The only assets that read the landing folder."""


import datetime as dt
from typing import Optional

import dagster as dg

from orchestration.defs.partitions import DUCKDB_WRITER_POOL, daily_partitions, single_run_backfill
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib.annotations_loader import load_annotations
from orchestration.lib.raw_events_loader import LoadReport, load_partition
from orchestration.lib.surveys_loader import load_surveys
from orchestration.settings import MISSING_PARTITION_POLICIES, load_settings


class RawEventsConfig(dg.Config):
    missing_partition: Optional[str] = None
    """'fail' (default from ATTNFLOW_MISSING_PARTITION) or 'skip': what a day without landing files does."""


def _reports_table(reports: list[LoadReport]) -> dg.MarkdownMetadataValue:
    lines = ["| day | files | lines | loaded | late | quarantined | reasons |", "|---|---|---|---|---|---|---|"]
    for r in reports:
        reasons = ", ".join(f"{k}: {v}" for k, v in r.quarantine_reasons.items()) or "-"
        status = "skipped (no files)" if r.skipped_missing else str(len(r.files))
        lines.append(f"| {r.day} | {status} | {r.lines_read} | {r.rows_loaded} | {r.late_rows} | "
                     f"{r.quarantined} | {reasons} |")
    return dg.MetadataValue.md("\n".join(lines))


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=DUCKDB_WRITER_POOL,
    group_name="ingest",
    kinds={"duckdb", "json"},
    owners=["team:data-engineering"],
    tags={"layer": "raw"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL),
)
def raw_events(context: dg.AssetExecutionContext, config: RawEventsConfig, warehouse: DuckDBWarehouse):
    """Behaviour-log lines of each landing day (`<landing>/events/dt=YYYY-MM-DD/`) loaded into `raw.events`.

    Re-running a day replaces it. Lines that break the contract go to `raw.events_quarantine` with file, line
    number and reason; nothing is dropped silently. A day without files fails (or is skipped, if configured).
    """
    settings = load_settings()
    missing = config.missing_partition or settings.missing_partition
    if missing not in MISSING_PARTITION_POLICIES:
        raise dg.Failure(f"missing_partition must be one of {MISSING_PARTITION_POLICIES}, got {missing!r}")
    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    reports = []
    with warehouse.connect() as conn:
        for day in days:
            report = load_partition(conn, settings.landing_dir, day,
                                    lateness_days=settings.lateness_days, missing=missing)
            context.log.info(f"{day}: loaded {report.rows_loaded} rows, quarantined {report.quarantined} "
                             f"{report.quarantine_reasons or ''}")
            reports.append(report)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(r.rows_loaded for r in reports),
            "rows_loaded": sum(r.rows_loaded for r in reports),
            "late_rows": sum(r.late_rows for r in reports),
            "quarantined_rows": sum(r.quarantined for r in reports),
            "quarantine_reasons": _merge_counts(r.quarantine_reasons for r in reports),
            "skipped_days": [str(r.day) for r in reports if r.skipped_missing],
            "per_day": _reports_table(reports),
        }
    )


def _merge_counts(dicts) -> dict[str, int]:
    merged: dict[str, int] = {}
    for d in dicts:
        for key, value in d.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def label_feed_asset(fn):
    """@dg.asset for a label feed that arrives beside the logs as CSV (annotations, surveys): rebuilt whole on each
    run, one DuckDB writer at a time, retried when the file is briefly locked."""
    return dg.asset(pool=DUCKDB_WRITER_POOL, group_name="ingest", kinds={"duckdb", "csv"},
                    owners=["team:data-engineering"], tags={"layer": "raw"},
                    retry_policy=dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL))(fn)


@label_feed_asset
def raw_annotations(warehouse: DuckDBWarehouse):
    """Human labels for sampled comments (`<landing>/annotations/*.csv`) rebuilt into `raw.annotations`.

    Rows without an event id or label go to `raw.annotations_quarantine`.
    """
    settings = load_settings()
    with warehouse.connect() as conn:
        report = load_annotations(conn, settings.landing_dir)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows_loaded,
            "files": len(report.files),
            "quarantined_rows": report.quarantined,
            "labels": report.labels,
        }
    )


@label_feed_asset
def raw_surveys(warehouse: DuckDBWarehouse):
    """Wellbeing-survey answers (`<landing>/surveys/*.csv`, the engagement-health model's labels) rebuilt into
    `raw.surveys`. Answers with a missing id or user, a bad time, an item outside 1..5 or a wrong total go to
    `raw.surveys_quarantine` with the reason."""
    settings = load_settings()
    with warehouse.connect() as conn:
        report = load_surveys(conn, settings.landing_dir)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows_loaded,
            "files": len(report.files),
            "quarantined_rows": report.quarantined,
            "quarantine_reasons": report.quarantine_reasons,
        }
    )
