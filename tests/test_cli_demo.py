"""`attnflow demo`, the README's main command, end to end in a fresh home: generate, materialise everything,
summarise. Its printed counts must be the warehouse's and the generator's."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ml.synthetic import DayManifest
from tests.helpers import query

pytestmark = pytest.mark.slow


def test_demo_builds_every_table_and_both_models(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME",) and not k.startswith("ATTNFLOW_")}
    env["ATTNFLOW_HOME"] = str(home)
    done = subprocess.run([str(Path(sys.executable).parent / "attnflow"), "demo", "--end", "2026-03-05"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    printed = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^  (\w+\.\w+)\s+([\d,]+)$", done.stdout, re.M)}
    assert len(printed) == 15  # every summary table was built, scores included
    for table, count in printed.items():
        assert query(home, f"SELECT count(*) FROM {table}")[0][0] == count, table
    manifests = [DayManifest.read(p) for p in sorted((home / "ground_truth").glob("dt=*/manifest.json"))]
    assert [m.day for m in manifests] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
    assert printed["raw.events"] == sum(m.expected_loaded_rows for m in manifests)
    assert printed["raw.events"] + printed["raw.events_quarantine"] == sum(m.total_lines for m in manifests)
    assert "ctr                  1 version(s), serving v0001" in done.stdout
    assert "comment_classifier   1 version(s), serving v0001" in done.stdout
    log = re.search(r"^dbt output: (.+)$", done.stdout, re.M)[1]
    assert "Completed successfully" in Path(log).read_text()  # dbt's console output went to the log file
    assert "Completed successfully" not in done.stdout
    assert (home / "dagster" / "dagster.yaml").exists()  # the run is recorded in the home's Dagster instance
    assert list((home / "dagster").glob("history/runs*")) or list((home / "dagster").glob("storage/*"))
