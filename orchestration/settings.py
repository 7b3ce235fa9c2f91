"""Environment-driven settings: one home folder holds the DuckDB file, landing logs, models and reports.

Every setting has a default that works on a laptop with nothing configured; a deployment overrides them with
environment variables (documented in the README). Nothing here imports Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

MISSING_PARTITION_POLICIES = ("fail", "skip")


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_dir: Path
    truth_dir: Path
    duckdb_path: Path
    models_dir: Path
    reports_dir: Path
    start_date: dt.date
    pseudonym_salt: str
    missing_partition: str
    lateness_days: int
    schedule_hour_utc: int
    text_backbone: str | None = None  # local folder or hub id; None: the bundled all-MiniLM-L6-v2
    alert_webhook_url: str | None = None  # failed runs are POSTed here too; None: only the alerts file

    @property
    def alerts_file(self) -> Path:
        """Where the run-failure sensor appends one JSON line per failed run."""
        return self.reports_dir / "alerts.jsonl"

    @property
    def events_dir(self) -> Path:
        return self.landing_dir / "events"

    @property
    def annotations_dir(self) -> Path:
        return self.landing_dir / "annotations"

    def dbt_env(self) -> dict[str, str]:
        """Variables the dbt profile and models read (dbt can only see settings through env_var).

        They have names of their own, which settings never read, so exporting them for one run cannot leak into
        the settings of the next.
        """
        return {
            "ATTNFLOW_DBT_DUCKDB_PATH": str(self.duckdb_path),
            "ATTNFLOW_DBT_PSEUDONYM_SALT": self.pseudonym_salt,
        }


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def load_settings() -> Settings:
    """Read the settings from the environment; relative paths resolve against the working directory."""
    home = _path("ATTNFLOW_HOME", Path(".attnflow").resolve())
    missing = os.environ.get("ATTNFLOW_MISSING_PARTITION", "fail")
    if missing not in MISSING_PARTITION_POLICIES:
        raise ValueError(f"ATTNFLOW_MISSING_PARTITION must be one of {MISSING_PARTITION_POLICIES}, got {missing!r}")
    return Settings(
        home=home,
        landing_dir=_path("ATTNFLOW_LANDING_DIR", home / "landing"),
        truth_dir=_path("ATTNFLOW_TRUTH_DIR", home / "ground_truth"),
        duckdb_path=_path("ATTNFLOW_DUCKDB_PATH", home / "attnflow.duckdb"),
        models_dir=_path("ATTNFLOW_MODELS_DIR", home / "models"),
        reports_dir=_path("ATTNFLOW_REPORTS_DIR", home / "reports"),
        start_date=dt.date.fromisoformat(os.environ.get("ATTNFLOW_START_DATE", "2026-01-01")),
        pseudonym_salt=os.environ.get("ATTNFLOW_PSEUDONYM_SALT", "attnflow-dev-salt"),
        missing_partition=missing,
        lateness_days=int(os.environ.get("ATTNFLOW_LATENESS_DAYS", "1")),
        schedule_hour_utc=int(os.environ.get("ATTNFLOW_SCHEDULE_HOUR_UTC", "2")),
        text_backbone=os.environ.get("ATTNFLOW_TEXT_BACKBONE") or None,
        alert_webhook_url=os.environ.get("ATTNFLOW_ALERT_WEBHOOK_URL") or None,
    )
