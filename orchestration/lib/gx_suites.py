"""Great Expectations suites as JSON files in ``expectations/``: strict loading and their binding to Dagster assets.

One suite per checked table; its name is the file stem. ``meta.attnflow`` binds the suite to an asset and says how
to read the data (see ``gx_data``)::

    {"asset_key": ["marts", "fct_ctr_training"],
     "read": {"table": "marts.fct_ctr_training"} | {"sql": "SELECT ..."} | {"reader": "raw_events_landed"},
     "partition": {"column": "event_date"} | null,        # null: the whole table is one batch
     "row_id_columns": ["impression_id"],                  # shown beside each offending value
     "parameters": {"partition_window": {}, "row_count_band": {...}}}   # providers of $PARAMETER values

Each expectation carries ``meta.name`` (unique in the suite, how checks and tests refer to it), ``meta.severity``
("critical": blocking, or "warning") and optionally ``meta.min_rows`` (skip, and report as skipped, on batches
with fewer rows: a CTR of 3 impressions says nothing).

Why strict: ``gx.ExpectationSuite(**json)`` only logs and drops an expectation whose type it does not know, so a
typo would silently switch a check off. Loading here raises instead. Parsing the JSON needs no Great Expectations
import (about 2.5 s), so the Dagster code location can read the bindings at load time; the GE objects are built
lazily when a check runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
SEVERITIES = ("critical", "warning")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SUITE_KEYS = {"name", "expectations", "meta", "notes", "suite_parameters", "id"}
_EXPECTATION_KEYS = {"type", "kwargs", "meta", "notes", "description", "id", "rendered_content"}
_READ_KINDS = ("table", "sql", "reader")
# Parameters each provider (gx_data.PARAMETER_PROVIDERS) fills in at validation time.
PROVIDED_PARAMETERS = {
    "partition_window": lambda cfg: {"window_start", "window_end"},
    "row_count_band": lambda cfg: {f"row_count_{side}_{band}" for band in cfg.get("bands", {})
                                   for side in ("min", "max")} | {"row_count_trailing_average"},
}


class SuiteError(ValueError):
    """A suite file that would not check what it says: unknown expectation type, bad binding, bad severity."""


@dataclass(frozen=True)
class ExpectationSpec:
    name: str
    type: str
    kwargs: dict[str, Any]
    severity: str
    min_rows: int = 0
    description: str = ""

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def columns(self) -> set[str]:
        cols = {self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs}
        return cols | set(self.kwargs.get("column_list", []))

    @property
    def parameters(self) -> set[str]:
        return {v["$PARAMETER"] for v in self.kwargs.values() if isinstance(v, dict) and "$PARAMETER" in v}

    def label(self) -> str:
        return f"{self.type}({self.column})" if self.column else self.type


@dataclass(frozen=True)
class SuiteBinding:
    asset_key: tuple[str, ...]
    read: dict[str, Any]
    partition_column: str | None = None
    row_id_columns: tuple[str, ...] = ()
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class SuiteFile:
    """A parsed, checked suite file. ``document`` is the JSON as written, for Great Expectations."""

    name: str
    path: Path
    binding: SuiteBinding
    expectations: tuple[ExpectationSpec, ...]
    document: dict[str, Any]

    def by_severity(self, severity: str) -> list[ExpectationSpec]:
        return [e for e in self.expectations if e.severity == severity]

    def expectation(self, name: str) -> ExpectationSpec:
        for e in self.expectations:
            if e.name == name:
                return e
        raise KeyError(f"suite {self.name} has no expectation {name!r}")

    def columns(self) -> list[str]:
        """Columns to read: those the expectations use and the row ids (a day's batch is filtered on the
        partition column; it need not be read)."""
        cols: set[str] = set(self.binding.row_id_columns)
        for e in self.expectations:
            cols |= e.columns
        return sorted(cols)

    def gx_suite(self, names: set[str] | None = None):
        """The Great Expectations suite (only the named expectations, if given), built strictly."""
        return build_gx_suite(self.document, names)


def _fail(path: Path, message: str) -> SuiteError:
    return SuiteError(f"{path.name}: {message}")


def _binding(path: Path, meta: Any) -> SuiteBinding:
    if not isinstance(meta, dict) or not isinstance(meta.get("attnflow"), dict):
        raise _fail(path, 'meta.attnflow is missing: it binds the suite to its asset ({"asset_key": [...], ...})')
    cfg = meta["attnflow"]
    unknown = set(cfg) - {"asset_key", "read", "partition", "row_id_columns", "parameters", "description"}
    if unknown:
        raise _fail(path, f"unknown keys in meta.attnflow: {sorted(unknown)}")
    key = cfg.get("asset_key")
    if not (isinstance(key, list) and key and all(isinstance(k, str) and k for k in key)):
        raise _fail(path, f"meta.attnflow.asset_key must be a non-empty list of strings, got {key!r}")
    read = cfg.get("read")
    if not (isinstance(read, dict) and len(set(read) & set(_READ_KINDS)) == 1):
        raise _fail(path, f"meta.attnflow.read needs exactly one of {_READ_KINDS}, got {read!r}")
    partition = cfg.get("partition")
    if partition is not None and not (isinstance(partition, dict) and isinstance(partition.get("column"), str)):
        raise _fail(path, f'meta.attnflow.partition must be null or {{"column": "..."}}, got {partition!r}')
    params = cfg.get("parameters") or {}
    unknown_providers = set(params) - set(PROVIDED_PARAMETERS)
    if unknown_providers:
        raise _fail(path, f"unknown parameter providers {sorted(unknown_providers)}; "
                          f"known: {sorted(PROVIDED_PARAMETERS)}")
    if params and partition is None:
        raise _fail(path, "parameter providers need a partition column (they are computed per partition day)")
    return SuiteBinding(
        asset_key=tuple(key),
        read=dict(read),
        partition_column=partition["column"] if partition else None,
        row_id_columns=tuple(cfg.get("row_id_columns") or ()),
        parameters={k: dict(v or {}) for k, v in params.items()},
        description=cfg.get("description", ""),
    )


def _expectation(path: Path, index: int, raw: Any) -> ExpectationSpec:
    where = f"expectation #{index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str) or not isinstance(raw.get("kwargs"), dict):
        raise _fail(path, f'{where} needs "type" (string) and "kwargs" (object)')
    unknown = set(raw) - _EXPECTATION_KEYS
    if unknown:
        raise _fail(path, f"{where} ({raw['type']}) has unknown keys {sorted(unknown)}")
    meta = raw.get("meta") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, f"{where} ({raw['type']}) needs meta.name in snake_case, got {name!r}")
    severity = meta.get("severity")
    if severity not in SEVERITIES:
        raise _fail(path, f"{name}: meta.severity must be one of {SEVERITIES}, got {severity!r}")
    min_rows = meta.get("min_rows", 0)
    if not isinstance(min_rows, int) or min_rows < 0:
        raise _fail(path, f"{name}: meta.min_rows must be a non-negative integer, got {min_rows!r}")
    return ExpectationSpec(name=name, type=raw["type"], kwargs=dict(raw["kwargs"]), severity=severity,
                           min_rows=min_rows, description=meta.get("description", ""))


def read_suite_file(path: Path) -> SuiteFile:
    """Parse and check a suite file without Great Expectations: structure, binding, names, severities, parameters."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _fail(path, "a suite file holds one JSON object")
    unknown = set(doc) - _SUITE_KEYS
    if unknown:
        raise _fail(path, f"unknown top-level keys {sorted(unknown)}")
    if doc.get("name") != path.stem:
        raise _fail(path, f"suite name {doc.get('name')!r} must equal the file stem {path.stem!r}")
    raw_expectations = doc.get("expectations")
    if not isinstance(raw_expectations, list) or not raw_expectations:
        raise _fail(path, "expectations must be a non-empty list")
    binding = _binding(path, doc.get("meta"))
    expectations = tuple(_expectation(path, i, raw) for i, raw in enumerate(raw_expectations))
    names = [e.name for e in expectations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(path, f"duplicate expectation names {duplicates}")
    provided: set[str] = set()
    for provider, cfg in binding.parameters.items():
        provided |= PROVIDED_PARAMETERS[provider](cfg)
    missing = sorted({p for e in expectations for p in e.parameters} - provided)
    if missing:
        raise _fail(path, f"$PARAMETER values {missing} are not provided by meta.attnflow.parameters "
                          f"({sorted(binding.parameters)})")
    return SuiteFile(name=doc["name"], path=path, binding=binding, expectations=expectations, document=doc)


def build_gx_suite(document: dict[str, Any], names: set[str] | None = None):
    """``gx.ExpectationSuite`` from a suite document; raises when Great Expectations drops or rejects anything."""
    import great_expectations as gx

    doc = json.loads(json.dumps(document))  # a private copy: GE mutates what it is given
    if names is not None:
        doc["expectations"] = [e for e in doc["expectations"] if (e.get("meta") or {}).get("name") in names]
    wanted = [e["type"] for e in doc["expectations"]]
    try:
        suite = gx.ExpectationSuite(**doc)
    except Exception as exc:  # pydantic / GE validation of kwargs
        raise SuiteError(f"{doc.get('name')}: Great Expectations rejected the suite: {exc}") from exc
    got = [e.expectation_type for e in suite.expectations]
    if len(got) != len(wanted):
        dropped = sorted(set(wanted) - set(got)) or wanted
        raise SuiteError(f"{doc.get('name')}: Great Expectations dropped {len(wanted) - len(got)} expectation(s) "
                         f"it does not know: {dropped} (misspelt type?)")
    return suite


def load_suite(path: Path) -> SuiteFile:
    """Strict load: the file checks of ``read_suite_file`` plus building the Great Expectations suite."""
    suite = read_suite_file(path)
    build_gx_suite(suite.document)
    return suite


def suite_files(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    return sorted(Path(directory).glob("*.json"))


def read_suite_files(directory: Path = EXPECTATIONS_DIR) -> dict[str, SuiteFile]:
    """Every suite of the folder, checked without Great Expectations (fast enough for code-location load)."""
    suites = [read_suite_file(p) for p in suite_files(directory)]
    return {s.name: s for s in suites}
