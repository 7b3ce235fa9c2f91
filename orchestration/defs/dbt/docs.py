"""The dbt docs site, built on demand into ``<ATTNFLOW_REPORTS_DIR>/dbt_docs/`` and linked from the dbt assets.

``dbt docs generate --static`` runs in a temporary target folder (dagster-dbt's ``target_path``, so it never
touches the project's ``target/`` or a concurrent invocation's artifacts) and the site is copied into the reports
folder: ``static_index.html`` (manifest and catalog inlined: opens straight from ``file://``), and ``index.html``
with ``manifest.json`` and ``catalog.json`` (the classic site: it fetches the JSON files, which browsers block on
``file://``, so serve the folder, e.g. ``python -m http.server -d <reports>/dbt_docs``).

Built on the same switch as the Great Expectations Data Docs (lib/docs_switch.py): ATTNFLOW_DATA_DOCS=1 or run tag
attnflow/data_docs=true. Then each dbt asset's materialisation carries ``dbt_docs``: a link to its model's page.
"""

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.resources import export_dbt_env
from orchestration.lib.docs_switch import data_docs_requested
from orchestration.settings import load_settings

STATIC_INDEX = "static_index.html"
SITE_FILES = (STATIC_INDEX, "index.html", "manifest.json", "catalog.json")


def docs_dir(reports_dir: Path) -> Path:
    return Path(reports_dir) / "dbt_docs"


def build_dbt_docs(dbt: DbtCliResource, reports_dir: Path) -> Path:
    """Generate the dbt docs site into ``<reports_dir>/dbt_docs/``; returns its ``static_index.html``.

    The catalog reads every table of the DuckDB file, so no other process may be writing it (inside a run this
    happens in the dbt step, after ``dbt build`` released the file). Each file is replaced atomically, so a reader
    never sees half a site."""
    export_dbt_env()
    site = docs_dir(reports_dir)
    site.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="attnflow-dbt-docs-") as tmp:
        dbt.cli(["docs", "generate", "--static"], target_path=Path(tmp)).wait()
        for name in SITE_FILES:
            staged = site / f".{name}.partial"
            shutil.copyfile(Path(tmp) / name, staged)
            staged.replace(site / name)
    return site / STATIC_INDEX


def docs_url(index: Path, unique_id: str | None = None) -> str:
    """file:// URL of the site, at the node's page when given (``#!/model/model.attnflow.fct_sessions``)."""
    url = Path(index).resolve().as_uri()
    return f"{url}#!/{unique_id.split('.', 1)[0]}/{unique_id}" if unique_id else url


def with_docs_link(event, index: Path):
    """A dbt materialisation event with its ``dbt_docs`` link added; other events (checks) unchanged."""
    if not isinstance(event, (dg.Output, dg.AssetMaterialization)):
        return event
    unique_id = event.metadata.get("unique_id")
    unique_id = getattr(unique_id, "value", unique_id)
    return event.with_metadata({**event.metadata, "dbt_docs": dg.MetadataValue.url(docs_url(index, unique_id))})


def stream_with_docs(context: dg.AssetExecutionContext, dbt: DbtCliResource, events: Iterable) -> Iterator:
    """dbt's Dagster events; when the run asks for reports, with the docs site built and linked.

    The site is built after ``dbt build`` has finished (DuckDB allows one writer, and the catalog should describe
    the tables just built), so in that case the events are collected first and released with their links; an
    error of the build is re-raised after them, as dagster-dbt itself does when it fetches metadata from DuckDB. A
    failure to build the site is a warning: the data was built."""
    if not data_docs_requested(context.run.tags):
        yield from events
        return
    collected, error = [], None
    try:
        collected.extend(events)
    except Exception as exc:  # noqa: BLE001 (re-raised below, after the events built so far)
        error = exc
    index = None
    try:
        index = build_dbt_docs(dbt, load_settings().reports_dir)
        context.log.info(f"dbt docs site: {index}")
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"dbt docs site not built: {exc!r}")
    for event in collected:
        yield with_docs_link(event, index) if index else event
    if error is not None:
        raise error
