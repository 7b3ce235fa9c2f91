"""Start a run when a landing day appears or changes."""

import dagster as dg

from orchestration.defs.ops.jobs import daily_job
from orchestration.defs.partitions import daily_partitions
from orchestration.lib.landing import landed_partitions
from orchestration.settings import load_settings


@dg.sensor(job=daily_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """One run per new or changed `dt=` folder. The run key is day + file fingerprint, so a day that was already
    processed is not requested again, while re-delivered files are."""
    settings = load_settings()
    landed = landed_partitions(settings.events_dir)
    valid_keys = set(daily_partitions.get_partition_keys(dynamic_partitions_store=context.instance))
    requests, outside = [], []
    for day, fingerprint in landed.items():
        key = day.isoformat()
        if key not in valid_keys:
            outside.append(key)
            continue
        requests.append(dg.RunRequest(run_key=f"{key}:{fingerprint}", partition_key=key))
    if outside:
        context.log.warning(f"landing folders outside the partition range (ATTNFLOW_START_DATE..yesterday): {outside}")
    if not requests:
        return dg.SkipReason(f"no landing days in {settings.events_dir}")
    return requests
