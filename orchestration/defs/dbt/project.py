"""The dbt project and its manifest. The manifest is built, never committed, so it cannot go stale."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Under `dagster dev` the manifest is re-parsed on every load; everywhere else (a fresh clone, CI, tests,
# `dagster definitions validate`) it is parsed once when missing, so the code location always loads.
dbt_project.prepare_if_dev()
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)
