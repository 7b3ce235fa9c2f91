"""Shared fixtures: every test gets its own ATTNFLOW_HOME; pipeline runs use an ephemeral Dagster instance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def attnflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ATTNFLOW_HOME", str(home))
    for name in ("ATTNFLOW_LANDING_DIR", "ATTNFLOW_TRUTH_DIR", "ATTNFLOW_DUCKDB_PATH", "ATTNFLOW_MISSING_PARTITION"):
        monkeypatch.delenv(name, raising=False)
    return home


