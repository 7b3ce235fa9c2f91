"""Start a run when a landing day appears or changes."""

import json

import dagster as dg

from orchestration.defs.ops.jobs import daily_job
from orchestration.defs.partitions import daily_partitions
from orchestration.lib.landing import landed_partitions
from orchestration.settings import load_settings


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """One run per new or changed `dt=` folder of the landing area.

    The cursor remembers each day's file fingerprint, so a day already processed is not requested again while
    re-delivered files are; the run key (day + fingerprint) makes Dagster drop a repeated request as well.
    """
    settings = load_settings()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    valid_keys = set(daily_partitions.get_partition_keys(dynamic_partitions_store=context.instance))
    requests, outside = [], []
    for day, fingerprint in landed_partitions(settings.events_dir).items():
        key = day.isoformat()
        if key not in valid_keys:
            outside.append(key)
        elif seen.get(key) != fingerprint:
            requests.append(dg.RunRequest(run_key=f"{key}:{fingerprint}", partition_key=key))
            seen[key] = fingerprint
    if outside:
        context.log.warning(f"landing folders outside the partition range (ATTNFLOW_START_DATE..yesterday): {outside}")
    context.update_cursor(json.dumps(seen, sort_keys=True))
    if not requests:
        return dg.SkipReason(f"no new or changed landing days in {settings.events_dir}")
    return requests
