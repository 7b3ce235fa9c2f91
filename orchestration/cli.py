"""`attnflow` command: set up the home folder, generate synthetic logs, run the pipeline, open the UI, build the
dbt docs site."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import Settings, load_settings

DAGSTER_YAML = Path(__file__).with_name("dagster.yaml")
REPO_ROOT = Path(__file__).resolve().parents[1]
SUMMARY_TABLES = (
    "raw.events", "raw.events_quarantine", "raw.annotations", "staging.stg_raw__events", "marts.fct_sessions",
    "marts.fct_impressions", "marts.fct_ctr_training", "marts.fct_daily_attention", "marts.fct_comments",
    "marts.dim_users", "marts.dim_items", "marts.dim_ads", "scores.ctr_scores", "scores.comment_sentiment",
    "scores.sentiment_trends",
)
MODEL_REGISTRIES = ("ctr", "comment_classifier", "ad_policy")


def init_home(settings: Settings) -> Path:
    """Create the home folder and a Dagster instance in it (DAGSTER_HOME, unless one is set already)."""
    for folder in (settings.home, settings.landing_dir, settings.models_dir, settings.reports_dir):
        folder.mkdir(parents=True, exist_ok=True)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or settings.home / "dagster").resolve()
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        shutil.copy(DAGSTER_YAML, dagster_home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    return dagster_home


def generate(settings: Settings, start: dt.date, days: int, events_per_day: int, seed: int, file_format: str):
    from ml.synthetic import generate_days

    return generate_days(start, days, settings.landing_dir, settings.truth_dir,
                         events_per_day=events_per_day, seed=seed, file_format=file_format)


def run_daily_job(first: dt.date, last: dt.date, verbose: bool = False):
    """Materialise every asset for landing days first..last as one run, recorded in the Dagster instance.
    Unless verbose, dbt's console output goes to <home>/logs/ (the run's events are in the UI either way)."""
    import contextlib

    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.definitions import defs

    job = defs.resolve_job_def("attnflow_daily")
    tags = {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}
    run_config = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}}
    log_dir = load_settings().home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{first}-{last}.log"
    with dg.DagsterInstance.get() as instance, open(log_path, "w") as log, \
            (contextlib.nullcontext() if verbose else contextlib.redirect_stdout(log)):
        result = job.execute_in_process(instance=instance, tags=tags, run_config=run_config, raise_on_error=True)
    if not verbose:
        print(f"dbt output: {log_path}")
    return result


def table_counts(settings: Settings) -> dict[str, int | None]:
    """Rows per summary table; None for a table not built yet (e.g. scores before a model was promoted)."""
    import duckdb

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        existing = {f"{schema}.{name}" for schema, name in
                    conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] if t in existing else None
                for t in SUMMARY_TABLES}


def model_summary(settings: Settings) -> list[str]:
    """One line per model registry: versions and the serving one, or why there is none yet."""
    from ml.registry import ModelRegistry

    lines = []
    for name in MODEL_REGISTRIES:
        registry = ModelRegistry(settings.models_dir, name)
        versions = registry.versions()
        serving = registry.promoted_version()
        if not versions:
            status = "not trained yet (needs more days / annotations)"
        elif serving is None:
            status = f"{len(versions)} version(s), none promoted (see the asset's promotion_decision)"
        else:
            status = f"{len(versions)} version(s), serving {serving}"
        lines.append(f"  {name:<20} {status}")
    return lines


def cmd_demo(args) -> int:
    settings = load_settings()
    init_home(settings)
    last = dt.date.fromisoformat(args.end) if args.end else dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=args.days - 1)
    print(f"attnflow home: {settings.home}")
    print(f"1/2 generating {args.days} days of synthetic logs ({first} .. {last}, ~{args.events_per_day} events/day)")
    generate(settings, first, args.days, args.events_per_day, args.seed, args.format)
    print("2/2 materialising every asset for those partitions (one run)")
    result = run_daily_job(first, last, args.verbose)
    print(f"\nrun {result.run_id} {'succeeded' if result.success else 'FAILED'}; rows per table:")
    for table, count in table_counts(settings).items():
        print(f"  {table:<32} {count:>10,}" if count is not None else f"  {table:<32} {'-':>10}")
    print("models:")
    print("\n".join(model_summary(settings)))
    print(f"\nDuckDB file: {settings.duckdb_path}\nOpen the UI:  attnflow dev   (then http://127.0.0.1:3000)")
    return 0 if result.success else 1


def cmd_generate(args) -> int:
    settings = load_settings()
    manifests = generate(settings, dt.date.fromisoformat(args.start), args.days, args.events_per_day, args.seed,
                         args.format)
    for m in manifests:
        print(f"{m.day}: {m.total_lines} lines written")
    return 0


def cmd_run(args) -> int:
    settings = load_settings()
    init_home(settings)
    first = dt.date.fromisoformat(args.start)
    last = dt.date.fromisoformat(args.end or args.start)
    result = run_daily_job(first, last, args.verbose)
    print(f"run {result.run_id} {'succeeded' if result.success else 'FAILED'} for {first} .. {last}")
    return 0 if result.success else 1


def cmd_init(args) -> int:
    print(f"DAGSTER_HOME={init_home(load_settings())}")
    return 0


def cmd_dev(args) -> int:
    init_home(load_settings())
    command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port)]
    return subprocess.call(command, cwd=REPO_ROOT)


def cmd_docs(args) -> int:
    """Build the dbt docs site into <reports>/dbt_docs/ and say where it is (and how to get the GE Data Docs)."""
    from orchestration.defs.dbt.docs import build_dbt_docs, docs_url
    from orchestration.defs.resources import build_resources

    settings = load_settings()
    init_home(settings)  # dbt opens (or creates) the DuckDB file inside it
    index = build_dbt_docs(build_resources()["dbt"], settings.reports_dir)
    gx_index = settings.reports_dir / "data_docs" / "index.html"
    print(f"dbt docs site: {index.parent}\n"
          f"  open {docs_url(index)}  (manifest and catalog inlined: works from file://)\n"
          f"  or serve the classic site: .venv/bin/python -m http.server -b 127.0.0.1 -d {index.parent} 8080\n"
          f"  then http://127.0.0.1:8080/  (index.html fetches manifest.json/catalog.json, which file:// blocks)")
    print("Great Expectations Data Docs: "
          + (f"{docs_url(gx_index)}" if gx_index.exists() else "none yet")
          + "\n  built by the quality checks of a run with ATTNFLOW_DATA_DOCS=1 (or run tag attnflow/data_docs=true), "
          "e.g. ATTNFLOW_DATA_DOCS=1 attnflow run --start YYYY-MM-DD; that run also rebuilds this dbt site and "
          "links both from the asset metadata")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attnflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate a few days of synthetic logs and materialise everything")
    demo.add_argument("--days", type=int, default=5)
    demo.add_argument("--end", help="last day (default: yesterday, UTC)")
    demo.add_argument("--events-per-day", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--format", default="jsonl", choices=["jsonl", "jsonl.gz", "parquet"])
    demo.add_argument("--verbose", action="store_true", help="print Dagster's and dbt's event logs")
    demo.set_defaults(func=cmd_demo)

    gen = sub.add_parser("generate", help="write synthetic logs into the landing folder")
    gen.add_argument("--start", required=True)
    gen.add_argument("--days", type=int, default=1)
    gen.add_argument("--events-per-day", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--format", default="jsonl", choices=["jsonl", "jsonl.gz", "parquet"])
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="materialise every asset for one day or a date range (one run)")
    run.add_argument("--start", required=True)
    run.add_argument("--end")
    run.add_argument("--verbose", action="store_true", help="print Dagster's and dbt's event logs")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init", help="create the home folder and the Dagster instance settings")
    init.set_defaults(func=cmd_init)

    dev = sub.add_parser("dev", help="start the Dagster UI and daemon (dagster dev) on loopback")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)

    docs = sub.add_parser("docs", help="build the dbt docs site into <reports>/dbt_docs/ and print where it is")
    docs.set_defaults(func=cmd_docs)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
