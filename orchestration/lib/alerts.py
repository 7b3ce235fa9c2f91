"""Failure alerts: one JSON record per failed run, appended to a file and optionally POSTed to a webhook.

No Dagster here. The file is the record of truth an on-call engineer (or `tail -f`) reads; the webhook is best
effort: a failed POST is reported to the caller, never raised, so an unreachable chat server cannot break alerting.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path


def alert_record(run_id: str, job: str, time: str, error: str, failed_steps: dict[str, str],
                 partitions: str | None = None) -> dict:
    """The alert as a JSON-ready dict. `failed_steps` maps step key to its error message; `text` is a one-line
    summary that chat webhooks (Slack, Mattermost, Teams workflows) display as is."""
    where = f" ({partitions})" if partitions else ""
    steps = ", ".join(failed_steps) or "no step"
    return {
        "run_id": run_id, "job": job, "time": time, "partitions": partitions, "error": error,
        "failed_steps": failed_steps,
        "text": f"attnflow: run {run_id} of {job}{where} failed in {steps}: {error}",
    }


def append_alert(path: Path, record: dict) -> None:
    """Append the record as one JSON line (the folder is created when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True, default=str) + "\n")


def post_alert(url: str, record: dict, timeout_s: float = 10.0) -> str | None:
    """POST the record as JSON; None on a 2xx answer, otherwise why it failed (never raises)."""
    request = urllib.request.Request(url, data=json.dumps(record, default=str).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (urllib.error.URLError, OSError, ValueError) as error:  # HTTPError is a URLError
        return f"{type(error).__name__}: {error}"
