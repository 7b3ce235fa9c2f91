"""dbt invocation artifacts live in <home>/dbt_runs/ and only the newest folders are kept."""

import os
import time

from orchestration.defs.dbt.invocations import prune_oldest


def test_prune_keeps_the_newest_folders_and_leaves_files_alone(tmp_path):
    for i in range(5):
        (tmp_path / f"run{i}").mkdir()
        (tmp_path / f"run{i}" / "run_results.json").write_text("{}")
        stamp = time.time() - 100 + i
        os.utime(tmp_path / f"run{i}", (stamp, stamp))
    (tmp_path / "notes.txt").write_text("not a run")
    deleted = prune_oldest(tmp_path, keep=2)
    assert sorted(p.name for p in deleted) == ["run0", "run1", "run2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "run3", "run4"]
