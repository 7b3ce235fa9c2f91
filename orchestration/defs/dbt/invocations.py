"""Where each dbt invocation keeps its artifacts (run_results.json, compiled SQL, logs): `<home>/dbt_runs/`, the
newest KEEP folders kept.

dagster-dbt's default is a new folder per invocation under `dbt_project/target/` (about 3 MB each, two per daily
run), which grows without bound inside the code checkout. In the home folder they sit with the data they
describe, and the run's folders are easy to find: `<asset function>-<run id prefix>-<random>`.
"""

import shutil
import uuid
from pathlib import Path

import dagster as dg

from orchestration.settings import load_settings

KEEP = 30


def invocation_target_path(context: dg.AssetExecutionContext) -> Path:
    runs = load_settings().home / "dbt_runs"
    runs.mkdir(parents=True, exist_ok=True)
    prune_oldest(runs, keep=KEEP - 1)
    return runs / f"{context.op_execution_context.op.name}-{context.run.run_id[:8]}-{uuid.uuid4().hex[:6]}"


def prune_oldest(folder: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` most recently modified sub-folders; returns the deleted ones."""
    children = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in children[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return children[keep:]
