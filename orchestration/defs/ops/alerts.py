"""Run-failure alerts: every failed run of the code location (schedule, sensor, backfill or a click in the UI) is
recorded in `<ATTNFLOW_REPORTS_DIR>/alerts.jsonl` and, when `ATTNFLOW_ALERT_WEBHOOK_URL` is set, POSTed there."""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._utils.error import SerializableErrorInfo
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from orchestration.lib.alerts import alert_record, append_alert, post_alert
from orchestration.settings import load_settings


def root_cause(error: SerializableErrorInfo | None) -> str:
    """The innermost error's message (e.g. duckdb's "Could not set lock"), not Dagster's wrapper around it."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def run_partitions(tags: dict[str, str]) -> str | None:
    """The run's day, or its range for a single-run backfill, or None for an unpartitioned run."""
    if PARTITION_NAME_TAG in tags:
        return tags[PARTITION_NAME_TAG]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return f"{start}..{end}" if start and end else None


# Running by default: alerting that has to be switched on first is the alerting that is off during an incident.
@dg.run_failure_sensor(name="run_failure_alert", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Append an alert for each failed run to alerts.jsonl and POST it to "
                                   "ATTNFLOW_ALERT_WEBHOOK_URL when set.")
def run_failure_alert(context: dg.RunFailureSensorContext):
    settings = load_settings()
    run = context.dagster_run
    run_record = context.instance.get_run_record_by_id(run.run_id)
    failed_at = run_record.end_time if run_record and run_record.end_time else dt.datetime.now(dt.UTC).timestamp()
    failure = context.failure_event
    run_error = getattr(failure.event_specific_data, "error", None)
    steps = {e.step_key: root_cause(e.event_specific_data.error) for e in context.get_step_failure_events()}
    record = alert_record(
        run_id=run.run_id, job=run.job_name,
        time=dt.datetime.fromtimestamp(failed_at, dt.UTC).isoformat(timespec="seconds"),
        error=root_cause(run_error) or next(iter(steps.values()), "") or (failure.message or ""),
        failed_steps=steps, partitions=run_partitions(dict(run.tags)))
    append_alert(settings.alerts_file, record)
    context.log.info(f"alert for run {run.run_id} written to {settings.alerts_file}")
    if settings.alert_webhook_url:
        problem = post_alert(settings.alert_webhook_url, record)
        if problem:
            context.log.warning(f"alert webhook {settings.alert_webhook_url} failed ({problem}); "
                                f"the alert is in {settings.alerts_file}")
