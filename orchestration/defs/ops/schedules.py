"""Daily schedule: materialise yesterday's partition shortly after midnight UTC."""

import dagster as dg

from orchestration.defs.ops.jobs import daily_job
from orchestration.settings import load_settings

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=load_settings().schedule_hour_utc,
    name="attnflow_daily_schedule",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
