"""The dbt docs site on demand: a run that asks for reports builds it into the reports folder from the real DuckDB
and links every dbt materialisation to its model's page; `attnflow docs` builds it from the CLI; without the
switch nothing is built and dbt's events pass through untouched."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from ml.synthetic import generate_days
from orchestration.defs.dbt.docs import SITE_FILES, stream_with_docs
from tests.helpers import run_daily_job

DAY = dt.date(2026, 5, 1)
DBT_LAYERS = {"staging", "intermediate", "marts"}
CTR_TABLE = "model.attnflow.fct_ctr_training"


@pytest.fixture(scope="module")
def docs_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("dbt_docs") / "home"
    generate_days(DAY, 1, home / "landing", home / "ground_truth", events_per_day=2000, seed=11)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        for name in ("ATTNFLOW_LANDING_DIR", "ATTNFLOW_DUCKDB_PATH", "ATTNFLOW_REPORTS_DIR",
                     "ATTNFLOW_MISSING_PARTITION"):
            mp.delenv(name, raising=False)
        mp.setenv("ATTNFLOW_DATA_DOCS", "1")
        result = run_daily_job(DAY)
        mp.delenv("ATTNFLOW_DATA_DOCS")
        yield home, result


@pytest.mark.slow
def test_the_site_is_built_into_the_reports_folder_from_the_real_warehouse(docs_run):
    home, result = docs_run
    assert result.success
    site = home / "reports" / "dbt_docs"
    assert {p.name for p in site.iterdir()} == set(SITE_FILES)
    manifest = json.loads((site / "manifest.json").read_text())
    assert CTR_TABLE in manifest["nodes"] and "model.attnflow.fct_sessions" in manifest["nodes"]
    # The catalog describes the tables the run built in DuckDB (columns and row counts come from the database).
    catalog = json.loads((site / "catalog.json").read_text())
    columns = {c.lower() for c in catalog["nodes"][CTR_TABLE]["columns"]}
    assert {"impression_id", "is_clicked", "event_date"} <= columns
    # static_index.html has both inlined, so it opens from file:// without a server.
    static = (site / "static_index.html").read_text()
    assert CTR_TABLE in static and '"MANIFEST.JSON INLINE DATA"' not in static


@pytest.mark.slow
def test_every_dbt_materialisation_links_its_model_page(docs_run):
    home, result = docs_run
    index = (home / "reports" / "dbt_docs" / "static_index.html").resolve().as_uri()
    events = result.get_asset_materialization_events()
    dbt_events = [e for e in events if e.asset_key.path[0] in DBT_LAYERS]
    assert {e.asset_key.path[-1] for e in dbt_events} >= {"fct_ctr_training", "fct_sessions", "dim_users"}
    for event in dbt_events:
        meta = event.materialization.metadata
        assert meta["dbt_docs"].value == f"{index}#!/model/{meta['unique_id'].value}"
    assert all("dbt_docs" not in e.materialization.metadata for e in events if e not in dbt_events)


@pytest.mark.slow
def test_attnflow_docs_builds_the_site_and_says_where(docs_run, tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("ATTNFLOW_REPORTS_DIR", str(tmp_path / "reports"))
    assert main(["docs"]) == 0
    site = tmp_path / "reports" / "dbt_docs"
    assert CTR_TABLE in (site / "static_index.html").read_text()
    assert all((site / name).is_file() for name in SITE_FILES)
    out = capsys.readouterr().out
    assert str(site) in out and (site / "static_index.html").resolve().as_uri() in out
    assert "ATTNFLOW_DATA_DOCS=1" in out  # how to get the Great Expectations Data Docs


def _events():
    return [dg.AssetMaterialization("a", metadata={"unique_id": "model.attnflow.a"}),
            dg.AssetCheckResult(asset_key="a", check_name="not_null", passed=True)]


def _context(tags=None):
    return SimpleNamespace(run=SimpleNamespace(tags=tags or {}), log=logging.getLogger("test_dbt_docs"))


class _FailingDbt:
    def __init__(self):
        self.calls = []

    def cli(self, args, **kwargs):
        self.calls.append(args)
        raise RuntimeError("no database")


def test_without_the_switch_events_pass_through_and_nothing_is_built(monkeypatch):
    monkeypatch.delenv("ATTNFLOW_DATA_DOCS", raising=False)
    dbt, events = _FailingDbt(), _events()
    assert list(stream_with_docs(_context(), dbt, iter(events))) == events
    assert dbt.calls == []


def test_a_failed_build_keeps_its_events_and_still_raises_and_a_failed_site_only_warns(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTNFLOW_DATA_DOCS", raising=False)
    monkeypatch.setenv("ATTNFLOW_REPORTS_DIR", str(tmp_path))

    def build_then_fail():
        yield from _events()
        raise RuntimeError("dbt build failed")

    dbt = _FailingDbt()
    stream = stream_with_docs(_context({"attnflow/data_docs": "true"}), dbt, build_then_fail())
    received = []
    with pytest.raises(RuntimeError, match="dbt build failed"):
        for event in stream:
            received.append(event)
    assert received == _events()  # released unchanged: the site could not be built
    assert dbt.calls == [["docs", "generate", "--static"]]
    assert not Path(tmp_path, "dbt_docs", "static_index.html").exists()
