"""Resources: the DuckDB warehouse and the dbt CLI, both configured from settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_project
from orchestration.settings import Settings


class DuckDBWarehouse(dg.ConfigurableResource):
    """The embedded DuckDB file. Open, use, close: a connection is never held while dbt runs."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = duckdb.connect(self.path, read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()


def build_resources(settings: Settings) -> dict[str, object]:
    # dbt reads settings only through env_var(): export them for the dbt subprocesses of this code location.
    os.environ.update(settings.dbt_env())
    return {
        "warehouse": DuckDBWarehouse(path=str(settings.duckdb_path)),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            # Use this interpreter's dbt even when the virtual environment is not activated.
            dbt_executable=str(Path(sys.executable).parent / "dbt"),
        ),
    }
