"""Resources: the DuckDB warehouse and the dbt CLI. Both follow the settings at run time, not at import."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_project
from orchestration.settings import load_settings


class DuckDBWarehouse(dg.ConfigurableResource):
    """The embedded DuckDB file. Open, use, close: a connection is never held while dbt runs."""

    path: Optional[str] = None
    """Database file; default ATTNFLOW_DUCKDB_PATH (or <ATTNFLOW_HOME>/attnflow.duckdb)."""

    def database_path(self) -> Path:
        return Path(self.path) if self.path else load_settings().duckdb_path

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(str(path), read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


def export_dbt_env() -> None:
    """dbt reads attnflow's settings only through env_var(): export them for the dbt subprocess of this run."""
    os.environ.update(load_settings().dbt_env())


def build_resources() -> dict[str, object]:
    return {
        "warehouse": DuckDBWarehouse(),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            # Use this interpreter's dbt even when the virtual environment is not activated.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
    }
