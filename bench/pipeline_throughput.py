"""Landing files -> marts throughput: attnflow's daily job vs one hand-written DuckDB script on the same files.

For each size: generate one synthetic day (generator wall time and peak memory: it must stream), run the daily
job for that day (`attnflow run`: Dagster + ingest with quarantine + dbt build with tests), and run
bench/handwritten_pipeline.sql on the same files. Reports events/s, peak RSS and the overhead ratio.

    .venv/bin/python bench/pipeline_throughput.py --events 1000000 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_measured, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = "2026-03-02"


def handwritten_command(files: list[Path], annotations: list[Path], database: Path) -> list[str]:
    def sql_list(paths: list[Path]) -> str:
        return "[" + ", ".join(f"'{p}'" for p in paths) + "]"

    sql = (REPO / "bench" / "handwritten_pipeline.sql").read_text()
    sql = (sql.replace("{files}", sql_list(files)).replace("{annotations}", sql_list(annotations))
           .replace("{day}", DAY).replace("{salt}", os.environ.get("ATTNFLOW_PSEUDONYM_SALT", "attnflow-dev-salt")))
    code = ("import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute(sys.argv[2]); "
            "print(c.execute('select count(*) from events').fetchone())")
    return [sys.executable, "-c", code, str(database), sql]


def bench_size(events: int, work: Path, seed: int) -> dict:
    home = work / f"home-{events}"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ATTNFLOW_HOME": str(home), "ATTNFLOW_START_DATE": "2026-01-01"}
    env.pop("ATTNFLOW_DUCKDB_PATH", None)
    env.pop("ATTNFLOW_LANDING_DIR", None)

    generation = run_measured([sys.executable, "-m", "ml.synthetic", "--landing", str(home / "landing"),
                               "--truth", str(home / "ground_truth"), "--start", DAY, "--days", "1",
                               "--events-per-day", str(events), "--seed", str(seed)], env=env, cwd=REPO)
    manifest = json.loads((home / "ground_truth" / f"dt={DAY}" / "manifest.json").read_text())
    lines = manifest["total_lines"]
    files = sorted((home / "landing" / "events" / f"dt={DAY}").glob("*.jsonl*"))
    size_mb = sum(f.stat().st_size for f in files) / 1e6

    pipeline = run_measured([str(BIN / "attnflow"), "run", "--start", DAY], env=env, cwd=REPO)
    steps = step_seconds(home / "dagster")
    models = dbt_model_seconds(home / "dbt_runs")
    annotations = sorted((home / "landing" / "annotations").glob("*.csv"))
    handwritten = run_measured(handwritten_command(files, annotations, work / f"handwritten-{events}.duckdb"),
                               cwd=REPO)
    (work / f"handwritten-{events}.duckdb").unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    return {
        "events_requested": events,
        "log_lines": lines,
        "landing_mb": round(size_mb, 1),
        "generator_s": round(generation["wall_s"], 2),
        "generator_events_per_s": round(lines / generation["wall_s"]),
        "generator_peak_rss_mib": round(generation["peak_rss_mib"]),
        "pipeline_s": round(pipeline["wall_s"], 2),
        "pipeline_events_per_s": round(lines / pipeline["wall_s"]),
        "pipeline_peak_rss_mib": round(pipeline["peak_rss_mib"]),
        "handwritten_sql_s": round(handwritten["wall_s"], 2),
        "handwritten_events_per_s": round(lines / handwritten["wall_s"]),
        "handwritten_peak_rss_mib": round(handwritten["peak_rss_mib"]),
        "pipeline_over_handwritten": round(pipeline["wall_s"] / handwritten["wall_s"], 2),
        "pipeline_step_s": steps,
        "dbt_model_s": models,
    }


def dbt_model_seconds(dbt_runs: Path) -> dict[str, float]:
    """Seconds per dbt model and test of the run (run_results.json of each invocation), slowest first."""
    times = {}
    for results in dbt_runs.glob("*/run_results.json"):
        for node in json.loads(results.read_text())["results"]:
            times[node["unique_id"].split(".", 2)[-1]] = round(node["execution_time"], 2)
    return dict(sorted(times.items(), key=lambda kv: -kv[1]))


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds per step of the (only) run recorded in the bench home's Dagster instance, slowest first: where
    the time between landing files and marts goes (ingest, dbt, each quality check, the model assets)."""
    code = ("import json, sys, dagster as dg\n"
            "with dg.DagsterInstance.get() as instance:\n"
            "    run = instance.get_runs(limit=1)[0]\n"
            "    stats = instance.get_run_step_stats(run.run_id)\n"
            "    print(json.dumps({s.step_key: s.end_time - s.start_time for s in stats\n"
            "                      if s.start_time and s.end_time}))")
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
                         capture_output=True, text=True, check=True).stdout
    steps = json.loads(out.strip().splitlines()[-1])
    return {k: round(v, 2) for k, v in sorted(steps.items(), key=lambda kv: -kv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()
    # Parse the dbt manifest once up front so the first measured run does not pay for it.
    run_measured([sys.executable, "-c", "import orchestration.definitions"], cwd=REPO)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="attnflow-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = [bench_size(n, work, args.seed) for n in args.events]
    print("\n| events/day | landing MB | generator ev/s (peak MiB) | pipeline s (ev/s, peak MiB) | "
          "hand-written SQL s (ev/s) | ratio |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['log_lines']:,} | {r['landing_mb']} | {r['generator_events_per_s']:,} "
              f"({r['generator_peak_rss_mib']}) | {r['pipeline_s']} ({r['pipeline_events_per_s']:,}, "
              f"{r['pipeline_peak_rss_mib']}) | {r['handwritten_sql_s']} ({r['handwritten_events_per_s']:,}) | "
              f"{r['pipeline_over_handwritten']}x |")
    for r in rows:
        top = ", ".join(f"{k} {v}s" for k, v in list(r["pipeline_step_s"].items())[:6])
        print(f"{r['log_lines']:,} events, slowest steps: {top}")
        top_models = ", ".join(f"{k} {v}s" for k, v in list(r["dbt_model_s"].items())[:6])
        print(f"{r['log_lines']:,} events, slowest dbt nodes: {top_models}")
    write_results("pipeline_throughput", {"day": DAY, "sizes": rows})


if __name__ == "__main__":
    main()
