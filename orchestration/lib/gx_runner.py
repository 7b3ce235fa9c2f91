"""Run a suite on DataFrames with Great Expectations 1.x and turn the results into evidence for asset checks.

The path is the one GE 1.x documents for in-memory data: an ephemeral context -> pandas data source -> dataframe
asset -> whole-dataframe batch definition -> ``ValidationDefinition.run(batch_parameters={"dataframe": df},
expectation_parameters=...)``. ``import great_expectations`` costs about 2.5 s, so it happens only when a runner
is opened, never when the code location loads.

Evidence per expectation: observed value, unexpected count and percent, and a small sample of offending values
(with the suite's row ids, e.g. file and line), sanitised so that it is valid JSON (NaN, NaT, timestamps, numpy
scalars). Data Docs, when asked for, are written to ``<reports>/data_docs/``; validation results are kept beside
them in ``<reports>/gx_validation_results/`` so the site's index lists every validation ever built, not only
the last one.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orchestration.lib.gx_suites import EXPECTATIONS_DIR, SuiteFile, read_suite_files

SAMPLE_SIZE = 5
MAX_TABLE_ROWS = 100  # a long backfill lists its failures, not hundreds of passes
MAX_TEXT = 80
DATA_SOURCE = "attnflow"
DOCS_SITE = "attnflow"


def sanitize(value: Any) -> Any:
    """A JSON-safe copy: NaN/NaT/inf -> None, numpy scalars -> Python, timestamps -> ISO strings, long text cut."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Series)):
        return [sanitize(v) for v in (sorted(value, key=str) if isinstance(value, set) else list(value))]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return sanitize(float(value))
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (pd.Timedelta, dt.timedelta, np.timedelta64)):
        return str(pd.Timedelta(value))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        try:
            if pd.isna(value):
                return None
        except (TypeError, ValueError):
            pass
        value = str(value)
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


@dataclass
class ExpectationOutcome:
    """One expectation on one batch, JSON-safe."""

    name: str
    severity: str
    expectation: str  # type(column)
    success: bool
    expected: str = ""  # the thresholds, with suite parameters resolved
    skipped: str | None = None  # why it did not run (too few rows)
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    missing_count: int | None = None
    sample: list[Any] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return sanitize(asdict(self))


@dataclass
class BatchValidation:
    """A suite on one batch (a partition day, or the whole table)."""

    suite: str
    batch: str  # the day, or "all"
    rows: int
    parameters: dict[str, Any]
    outcomes: list[ExpectationOutcome]
    docs_page: str | None = None

    def failed(self, severity: str | None = None) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and severity in (None, o.severity)]

    def outcome(self, name: str) -> ExpectationOutcome:
        return next(o for o in self.outcomes if o.name == name)


def _sample(result: dict[str, Any], row_ids: tuple[str, ...]) -> list[Any]:
    """The first offending values; with the row ids when GE returned them (``{"value": ..., "line_no": ...}``)."""
    indexed = result.get("partial_unexpected_index_list")
    if indexed and isinstance(indexed[0], dict) and row_ids:
        sample = []
        for row in indexed[:SAMPLE_SIZE]:
            ids = {k: row.get(k) for k in row_ids}
            value = next((v for k, v in row.items() if k not in row_ids), None)
            sample.append({"value": value, **ids})
        return sanitize(sample)
    return sanitize(list(result.get("partial_unexpected_list") or [])[:SAMPLE_SIZE])


_SHOWN_KWARGS = ("value_set", "min_value", "max_value", "strict_min", "strict_max", "mostly")


def expected_text(spec, parameters: dict[str, Any] | None = None) -> str:
    """The expectation's thresholds as text, ``$PARAMETER`` references replaced by their values."""
    parts = []
    for key in _SHOWN_KWARGS:
        if key not in spec.kwargs:
            continue
        value = spec.kwargs[key]
        if isinstance(value, dict) and "$PARAMETER" in value:
            value = (parameters or {}).get(value["$PARAMETER"])
        parts.append(f"{key}={_cell(sanitize(value))}")
    return ", ".join(parts)


def _outcome(spec, result, parameters: dict[str, Any] | None = None) -> ExpectationOutcome:
    res = result.result or {}
    error = None
    info = result.exception_info or {}
    if info.get("raised_exception"):
        error = sanitize(str(info.get("exception_message") or "expectation raised")[:300])
    return ExpectationOutcome(
        name=spec.name, severity=spec.severity, expectation=spec.label(), success=bool(result.success),
        expected=expected_text(spec, parameters),
        observed_value=sanitize(res.get("observed_value")),
        element_count=sanitize(res.get("element_count")),
        unexpected_count=sanitize(res.get("unexpected_count")),
        unexpected_percent=sanitize(res.get("unexpected_percent")),
        missing_count=sanitize(res.get("missing_count")),
        sample=_sample(res, tuple(res.get("unexpected_index_column_names") or ())),
        error=error,
    )


def _context_config(docs_dir: Path | None, results_dir: Path | None) -> dict[str, Any]:
    """An ephemeral context: everything in memory except, with Data Docs, the validation results and the site."""
    memory = {"class_name": "InMemoryStoreBackend"}
    results_backend = ({"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)}
                       if results_dir else memory)
    sites = {}
    if docs_dir:
        sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    return {
        "config_version": 4,
        "analytics_enabled": False,
        "progress_bars": {"globally": False, "metric_calculations": False},
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "stores": {
            "expectations_store": {"class_name": "ExpectationsStore", "store_backend": memory},
            "validation_results_store": {"class_name": "ValidationResultsStore", "store_backend": results_backend},
            "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": memory},
            "validation_definition_store": {"class_name": "ValidationDefinitionStore", "store_backend": memory},
        },
        "data_docs_sites": sites,
        "fluent_datasources": {},
    }


class GxRunner:
    """Validates suites on DataFrames in one ephemeral Great Expectations context.

    ``reports_dir`` switches Data Docs on: results are kept in ``<reports_dir>/gx_validation_results`` and
    ``build_docs()`` renders ``<reports_dir>/data_docs``.
    """

    def __init__(self, reports_dir: Path | None = None, run_name: str | None = None,
                 suites_dir: Path = EXPECTATIONS_DIR) -> None:
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine

        # GE fingerprints every in-memory batch under 1 GB (shallow) with pd.util.hash_pandas_object, only to store
        # it as a batch marker: 16 s of a 10M-row day's validation. Never hash.
        pandas_execution_engine.HASH_THRESHOLD = 0
        self._gx = gx
        self.docs_dir = Path(reports_dir) / "data_docs" if reports_dir else None
        results_dir = Path(reports_dir) / "gx_validation_results" if reports_dir else None
        for folder in (self.docs_dir, results_dir):
            if folder:
                folder.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(project_config=_context_config(self.docs_dir, results_dir), mode="ephemeral")
        self.data_source = self.context.data_sources.add_pandas(DATA_SOURCE)
        self.run_name = run_name or uuid.uuid4().hex[:8]
        self.suites_dir = suites_dir
        self._definitions: dict[str, tuple[dict, Any]] = {}
        self._result_ids: list[Any] = []

    def _definition(self, suite: SuiteFile):
        """One dataframe asset and validation definition per suite, reused for every batch."""
        if suite.name in self._definitions:
            document, definition = self._definitions[suite.name]
            if document != suite.document:
                raise ValueError(f"a different suite named {suite.name!r} was already validated by this runner")
            return definition
        batch = self.data_source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("all")
        gx_suite = self.context.suites.add(suite.gx_suite())
        definition = self.context.validation_definitions.add(
            self._gx.ValidationDefinition(name=f"{suite.name}_validation", data=batch, suite=gx_suite))
        self._definitions[suite.name] = (suite.document, definition)
        return self._definitions[suite.name][1]

    def validate(self, suite: SuiteFile, df: pd.DataFrame, parameters: dict[str, Any] | None = None,
                 batch: str = "all") -> BatchValidation:
        """Run the suite on ``df``.

        An expectation whose ``meta.min_rows`` exceeds the batch's rows still runs (Data Docs show it) but is
        reported as skipped and never fails the check: a CTR over three impressions is noise, not evidence.
        """
        from great_expectations.core.run_identifier import RunIdentifier

        rows = len(df)
        definition = self._definition(suite)
        run_id = RunIdentifier(run_name=f"{batch}-{self.run_name}", run_time=dt.datetime.now(dt.timezone.utc))
        row_ids = [c for c in suite.binding.row_id_columns if c in df.columns]
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}
        if row_ids:
            result_format["unexpected_index_column_names"] = row_ids
        result = definition.run(batch_parameters={"dataframe": df}, expectation_parameters=parameters or {},
                                result_format=result_format, run_id=run_id)
        by_name = {(r.expectation_config.meta or {}).get("name"): r for r in result.results}
        outcomes = []
        for spec in suite.expectations:
            if spec.name not in by_name:
                raise RuntimeError(f"suite {suite.name}: Great Expectations returned no result for {spec.name}")
            outcome = _outcome(spec, by_name[spec.name], parameters)
            if rows < spec.min_rows:
                outcome.success = True
                outcome.skipped = f"skipped: {rows} rows < min_rows {spec.min_rows}"
            outcomes.append(outcome)
        docs_page = self._remember_result(suite.name, run_id) if self.docs_dir else None
        return BatchValidation(suite=suite.name, batch=batch, rows=rows, parameters=sanitize(parameters or {}),
                               outcomes=outcomes, docs_page=docs_page)

    def _remember_result(self, suite_name: str, run_id) -> str:
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier, ValidationResultIdentifier,
        )

        identifier = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id, batch_identifier=f"{DATA_SOURCE}-{suite_name}")
        self._result_ids.append(identifier)
        urls = self.context.get_docs_sites_urls(resource_identifier=identifier, site_name=DOCS_SITE,
                                                only_if_exists=False)
        return urls[0]["site_url"]

    def build_docs(self) -> str | None:
        """Render this runner's validation pages, every suite's page and the index; returns the index URL."""
        if not self.docs_dir:
            return None
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        # The index lists what the stores hold and removes pages they do not: add every suite, so that building
        # one suite's docs keeps the others' pages.
        names = set()
        for suite in read_suite_files(self.suites_dir).values():
            self.context.suites.add_or_update(suite.gx_suite())
            names.add(suite.name)
        resources = [*self._result_ids, *(ExpectationSuiteIdentifier(name=n) for n in sorted(names))]
        built = self.context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
        return built[DOCS_SITE]


def validate_frame(suite: SuiteFile, df: pd.DataFrame, parameters: dict[str, Any] | None = None,
                   batch: str = "all") -> BatchValidation:
    """Convenience: one suite on one DataFrame in a fresh in-memory context (no Data Docs)."""
    return GxRunner().validate(suite, df, parameters, batch)


# --- evidence for the Dagster UI ---------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 160 else text[:159] + "…"


def markdown_report(validations: list[BatchValidation], severity: str) -> str:
    """A Markdown table, one row per batch and expectation of that severity: failures first (only the failures
    when a long backfill would make it unreadable)."""
    lines = ["| batch | expectation | expected | result | observed | unexpected | unexpected % | sample |",
             "|---|---|---|---|---|---|---|---|"]
    rows = []
    for v in validations:
        for o in v.outcomes:
            if o.severity != severity:
                continue
            status = "skipped" if o.skipped else ("✅ pass" if o.success else "❌ FAIL")
            observed = o.error or o.skipped or o.observed_value
            rows.append((o.success, f"| {v.batch} | **{o.name}**<br>`{o.expectation}` | {_cell(o.expected)} | "
                                    f"{status} | "
                                    f"{_cell(observed)} | {_cell(o.unexpected_count)} | "
                                    f"{_cell(o.unexpected_percent)} | {_cell(o.sample or None)} |"))
    rows.sort(key=lambda r: r[0])
    shown = [row for ok, row in rows if not ok or len(rows) <= MAX_TABLE_ROWS]
    lines += shown
    if len(shown) < len(rows):
        lines.append(f"\n{len(rows) - len(shown)} passing results not shown (all are in `evidence`).")
    return "\n".join(lines)


def evidence(validations: list[BatchValidation], severity: str) -> dict[str, Any]:
    """Check metadata (JSON-safe plain values) for the expectations of one severity."""
    failed = sorted({o.name for v in validations for o in v.failed(severity)})
    evaluated = sum(1 for v in validations for o in v.outcomes if o.severity == severity and not o.skipped)
    payload = [{"batch": v.batch, "rows": v.rows, "parameters": v.parameters,
                "expectations": [o.to_dict() for o in v.outcomes if o.severity == severity]} for v in validations]
    return {
        "passed": not failed,
        "failed_expectations": failed,
        "evaluated": evaluated,
        "batches": [v.batch for v in validations],
        "rows": {v.batch: v.rows for v in validations},
        "markdown": markdown_report(validations, severity),
        "results": json.loads(json.dumps(sanitize(payload), allow_nan=False)),
        "docs_pages": [v.docs_page for v in validations if v.docs_page],
    }
