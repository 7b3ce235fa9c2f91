"""The dbt project and its manifest. The manifest is built, never committed, so it cannot go stale."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

# dbt is installed next to this interpreter; make it findable when the virtual environment is not activated
# (`.venv/bin/dagster dev`), for the manifest preparer as well as for dbt runs.
_BIN_DIR = str(Path(sys.executable).parent)
if _BIN_DIR not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN_DIR + os.pathsep + os.environ.get("PATH", "")

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
_SOURCE_FOLDERS = ("models", "macros", "tests")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    """True when the manifest is missing or older than any dbt source file (SQL, YAML, project settings)."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [project.project_dir / "dbt_project.yml"]
    for folder in _SOURCE_FOLDERS:
        sources.extend(p for p in (project.project_dir / folder).rglob("*") if p.is_file())
    return any(p.stat().st_mtime > built for p in sources)


# A fresh clone, CI, tests and `dagster definitions validate` parse the project here when needed (about 2 s), so
# the code location always loads with a manifest that matches the SQL; `dagster dev` re-parses on every load.
dbt_project.prepare_if_dev()
if manifest_is_stale():
    dbt_project.preparer.prepare(dbt_project)
