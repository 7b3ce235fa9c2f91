"""Partition window -> dbt ``--vars``: the one place that decides which days a dbt run touches."""

from __future__ import annotations

import datetime as dt
import json


def dbt_vars_for_window(start: dt.datetime | dt.date, end_exclusive: dt.datetime | dt.date) -> dict[str, str]:
    """Vars for a run over landing days [start, end_exclusive).

    Dagster's time windows are half-open and cover the whole range of a single-run backfill, so a 3-day backfill
    becomes one dbt invocation with min_date..max_date spanning the 3 days. The models also rebuild the
    ``lateness_days`` before min_date, which late events in this window can change.
    """
    start_day = start.date() if isinstance(start, dt.datetime) else start
    end_day = end_exclusive.date() if isinstance(end_exclusive, dt.datetime) else end_exclusive
    last_day = end_day - dt.timedelta(days=1)
    if last_day < start_day:
        raise ValueError(f"empty partition window: {start_day} .. {end_day} (end exclusive)")
    return {"min_date": start_day.isoformat(), "max_date": last_day.isoformat()}


def dbt_vars_arg(start, end_exclusive) -> list[str]:
    return ["--vars", json.dumps(dbt_vars_for_window(start, end_exclusive))]
