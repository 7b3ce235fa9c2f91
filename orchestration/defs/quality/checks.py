"""Great Expectations suites (``expectations/*.json``) as Dagster asset checks.

Each suite whose asset is in the Definitions becomes one multi-asset check (op ``quality_<suite>``) with two
check keys on that asset:

- ``<suite>_critical``: the expectations with ``meta.severity = "critical"``; ERROR severity and ``blocking``, so
  a failure stops the downstream assets of the same run (and ``AutomationCondition.all_deps_blocking_checks_passed``
  holds back automated ones);
- ``<suite>_warnings``: the others; WARN severity, never blocks, shows up as a warning in the UI.

Partitions: the checks are not partitioned (partitioned asset checks are a preview in Dagster 1.13 and record a
single partition key, which a single-run backfill over a range does not have). A check step of a partitioned run
still sees the run's partitions (``context.partition_keys``: one day, or every day of a range), so a suite with a
partition column is validated once per day of the run, with that day's suite parameters. Executed outside a
partitioned run (e.g. "Execute check" in the UI), it validates the newest day present. A suite without a partition
column (``fct_comments``) validates the whole table.

Every result is also appended to the quality ledger (``quality.check_results``, see lib/quality_ledger.py), which
the training assets read to leave out days whose latest critical result failed.
"""

# No `from __future__ import annotations`: Dagster reads the context and resource annotations at definition time.
import datetime as dt
import logging
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration.defs.partitions import DUCKDB_WRITER_POOL
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib.docs_switch import data_docs_requested
from orchestration.lib.gx_suites import EXPECTATIONS_DIR, SuiteFile, read_suite_files
from orchestration.lib.quality_ledger import record
from orchestration.settings import load_settings

log = logging.getLogger(__name__)

_CHECK_SUFFIX = {"critical": "critical", "warning": "warnings"}
_SEVERITY = {"critical": dg.AssetCheckSeverity.ERROR, "warning": dg.AssetCheckSeverity.WARN}
REPO = Path(__file__).resolve().parents[3]


def check_name(suite: str, severity: str) -> str:
    return f"{suite}_{_CHECK_SUFFIX[severity]}"


def run_days(context: dg.AssetCheckExecutionContext) -> list[dt.date] | None:
    """The partition days of the run (one day, or each day of a single-run backfill); None when not partitioned."""
    if context.has_partition_key or context.has_partition_key_range:
        return [dt.date.fromisoformat(key) for key in context.partition_keys]
    return None


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _spec(suite: SuiteFile, severity: str) -> dg.AssetCheckSpec:
    names = [e.name for e in suite.by_severity(severity)]
    what = "Blocking: a failure stops downstream assets of the run." if severity == "critical" \
        else "Non-blocking warning."
    return dg.AssetCheckSpec(
        check_name(suite.name, severity),
        asset=dg.AssetKey(list(suite.binding.asset_key)),
        blocking=severity == "critical",
        description=f"Great Expectations suite `{suite.name}`, {severity} expectations: {', '.join(names)}. {what}",
        metadata={"suite": suite.name, "suite_file": _relative(suite.path), "severity": severity,
                  "expectations": names},
    )


def _batches_label(validations) -> str:
    batches = [v.batch for v in validations]
    if not batches:
        return "nothing"
    return batches[0] if len(batches) == 1 else f"{batches[0]}..{batches[-1]} ({len(batches)} days)"


def build_suite_check(suite: SuiteFile) -> dg.AssetChecksDefinition:
    """The multi-asset check of one suite (critical and/or warning check keys)."""
    severities = [s for s in ("critical", "warning") if suite.by_severity(s)]
    specs = [_spec(suite, s) for s in severities]

    @dg.multi_asset_check(
        specs=specs,
        name=f"quality_{suite.name}",
        description=suite.binding.description or f"Great Expectations suite {suite.name}",
        can_subset=True,
        # A reader cannot open the DuckDB file while another process writes it: take the writers' slot.
        pool=DUCKDB_WRITER_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
        from orchestration.lib.gx_data import latest_day, read_batch, suite_parameters
        from orchestration.lib.gx_runner import GxRunner, evidence

        settings = load_settings()
        days: list[dt.date | None] | None = run_days(context) if suite.binding.partition_column else [None]
        docs = data_docs_requested(context.run.tags)
        reports_dir = settings.reports_dir if docs else None
        batches = []
        with warehouse.connect(read_only=True) as conn:
            if days is None:
                newest = latest_day(conn, suite)
                days = [newest] if newest else []
                context.log.info(f"{suite.name}: not a partitioned run; validating the newest day present: {newest}")
            for day in days:
                batches.append((day, read_batch(conn, suite, day),
                                suite_parameters(conn, suite, day, lateness_days=settings.lateness_days)))
        runner = GxRunner(reports_dir=reports_dir, run_name=context.run.run_id[:8])
        validations = [runner.validate(suite, df, params, batch=day.isoformat() if day else "all")
                       for day, df, params in batches]
        docs_index = runner.build_docs() if docs else None
        with warehouse.connect() as conn:  # the ledger: later runs leave days that failed out of training
            record(conn, suite.name, context.run.run_id,
                   [(v.batch, severity, sorted({o.name for o in v.failed(severity)}), v.rows)
                    for v in validations for severity in severities])

        selected = {key.name for key in context.selected_asset_check_keys}
        for severity in severities:
            name = check_name(suite.name, severity)
            if name not in selected:
                continue
            ev = evidence(validations, severity)
            passed = ev["passed"] and bool(validations)
            scope = _batches_label(validations)
            if not validations:
                description = f"no data to validate in {suite.name}"
            elif passed:
                description = f"{ev['evaluated']} {severity} expectation results passed on {scope}"
            else:
                description = (f"{len(ev['failed_expectations'])} {severity} expectation(s) failed on {scope}: "
                               f"{', '.join(ev['failed_expectations'])}")
            metadata = {
                "suite": suite.name,
                "suite_file": _relative(suite.path),
                "validated": scope,
                "rows_validated": sum(ev["rows"].values()),
                "failed_expectations": dg.MetadataValue.json(ev["failed_expectations"]),
                "expectations": dg.MetadataValue.md(ev["markdown"]),
                "evidence": dg.MetadataValue.json(ev["results"]),
            }
            if docs_index:
                metadata["data_docs"] = dg.MetadataValue.url(docs_index)
                metadata["data_docs_pages"] = dg.MetadataValue.json(ev["docs_pages"])
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(list(suite.binding.asset_key)),
                check_name=name,
                passed=passed,
                severity=_SEVERITY[severity],
                description=description,
                metadata=metadata,
            )

    return _check


def asset_keys_of(defs: dg.Definitions) -> set[dg.AssetKey]:
    """Keys of every asset (definitions, specs, source assets) passed to the Definitions, without resolving it."""
    keys: set[dg.AssetKey] = set()
    for item in defs.assets or []:
        if isinstance(item, dg.AssetsDefinition):
            keys |= set(item.keys)
        elif hasattr(item, "key"):
            keys.add(item.key)
    return keys


def build_quality_checks(asset_keys: Iterable[dg.AssetKey],
                         suites_dir: Path = EXPECTATIONS_DIR) -> list[dg.AssetChecksDefinition]:
    """A check per suite whose asset is among ``asset_keys``; suites of assets not (yet) defined are skipped."""
    present = set(asset_keys)
    checks = []
    for suite in read_suite_files(suites_dir).values():
        key = dg.AssetKey(list(suite.binding.asset_key))
        if key in present:
            checks.append(build_suite_check(suite))
        else:
            log.info("quality: suite %s skipped, its asset %s is not defined", suite.name, key.to_user_string())
    return checks


def with_quality_checks(defs: dg.Definitions, suites_dir: Path = EXPECTATIONS_DIR) -> dg.Definitions:
    """``defs`` plus the checks of every suite whose asset it defines (jobs selecting those assets run them)."""
    checks = build_quality_checks(asset_keys_of(defs), suites_dir)
    return dg.Definitions.merge(defs, dg.Definitions(asset_checks=checks)) if checks else defs
