"""Engagement-health model: training time, AUC against the daily-minutes rule's AUC, and calibration, on generated
days with a wellbeing survey.

Builds the tables the way production does: generate `--days` synthetic days (with `--survey-share` of the users
answering the survey each day), run the daily job over them in one run (ingest, dbt build incl. the usage mart,
quality checks; the comment classifier is told to skip, it is not measured here), then in a fresh process:

  1. training_rows: window features (the `--window-days` before each answer) for every usable answer -> seconds
  2. train_health_model: LightGBM + Platt calibration + evaluation, `--repeats` times, fastest counts -> seconds
  3. the test answers' metrics: model, the daily-minutes rule, the uncalibrated trees, and the oracle (the
     generator's latent compulsivity of each respondent, which the survey measures with noise)

    .venv/bin/python bench/health_model.py [--days 28] [--events-per-day 40000] [--survey-share 0.1]
                                           [--window-days 14] [--repeats 3] [--work-dir DIR --reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import run_measured, write_results  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
START = dt.date(2026, 3, 1)

_RUN_JOB = """
import datetime as dt, sys
from tests.helpers import run_daily_job
first, last, window = dt.date.fromisoformat(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
config = {"ops": {"comment_classifier": {"config": {"min_labels": 10**9}},
                  "health_model": {"config": {"window_days": window}}}}
run_daily_job(first, last, run_config=config)
"""


def build(home: Path, args: argparse.Namespace) -> dict:
    marker = home / "bench_build.json"
    wanted = {k: getattr(args, k) for k in ("days", "events_per_day", "survey_share", "seed", "window_days")}
    if args.reuse and marker.exists() and json.loads(marker.read_text())["params"] == wanted:
        return {**json.loads(marker.read_text()), "reused": True}
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ATTNFLOW_HOME": str(home), "ATTNFLOW_START_DATE": "2026-01-01", "PYTHONPATH": str(REPO)}
    for name in ("ATTNFLOW_DUCKDB_PATH", "ATTNFLOW_LANDING_DIR", "ATTNFLOW_TRUTH_DIR"):
        env.pop(name, None)
    last = START + dt.timedelta(days=args.days - 1)
    generation = run_measured([sys.executable, "-m", "ml.synthetic", "--landing", str(home / "landing"),
                               "--truth", str(home / "ground_truth"), "--start", START.isoformat(),
                               "--days", str(args.days), "--events-per-day", str(args.events_per_day),
                               "--seed", str(args.seed), "--survey-share", str(args.survey_share)], env=env, cwd=REPO)
    job = run_measured([sys.executable, "-c", _RUN_JOB, START.isoformat(), last.isoformat(), str(args.window_days)],
                       env=env, cwd=REPO)
    record = {"params": wanted, "generator_s": round(generation["wall_s"], 1), "daily_job_s": round(job["wall_s"], 1)}
    marker.write_text(json.dumps(record))
    return {**record, "reused": False}


def measure(home: Path, window_days: int, repeats: int) -> dict:
    """Runs in its own process."""
    import duckdb
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from ml.health import training_rows, train_health_model
    from orchestration.defs.models.health import _first_full_day

    with duckdb.connect(str(home / "attnflow.duckdb"), read_only=True) as conn:
        daily = conn.execute("SELECT * FROM marts.fct_user_daily_usage").df()
        surveys = conn.execute("SELECT s.response_id, s.user_key, s.survey_date, s.is_at_risk, u.main_geo "
                               "FROM staging.stg_raw__wellbeing_surveys s LEFT JOIN marts.dim_users u "
                               "USING (user_key)").df()
        first_full = _first_full_day(conn)
    started = time.perf_counter()
    rows = training_rows(daily, surveys, window_days, first_full_day=first_full)
    features_s = time.perf_counter() - started
    rows = rows.assign(is_at_risk=rows["is_at_risk"].astype(int))

    fits = []
    for _ in range(repeats):
        started = time.perf_counter()
        _model, report = train_health_model(rows)
        fits.append(time.perf_counter() - started)

    truth = pd.concat([pd.read_parquet(p, columns=["response_id", "compulsivity"])
                       for p in (home / "ground_truth").glob("dt=*/surveys.parquet")])
    test = rows.loc[rows["user_key"].isin(set(report.test_predictions["user_key"]))]
    test = test.merge(truth, on="response_id", how="left")
    predictions = report.test_predictions
    pick = ("auc", "logloss", "brier", "ece", "positive_rate")
    return {
        "answers": {"usable": len(rows), **{f"{k}_rows": v for k, v in report.split["rows"].items()},
                    "positives": report.split["positives"]},
        "seconds": {"window_features": round(features_s, 3), "train_and_evaluate_fastest": round(min(fits), 3),
                    "train_and_evaluate_all": [round(f, 3) for f in fits],
                    "fit_and_calibrate_last": round(report.timings_s["fit_and_calibrate"], 3)},
        "test": {
            "model": {k: report.model[k] for k in pick},
            "daily_minutes_rule": {k: report.baselines["minutes_rule"][k] for k in pick},
            "uncalibrated_trees": {k: report.baselines["uncalibrated"][k] for k in pick},
            "auc_gain_over_rule_95ci": report.auc_gain_over_rule,
            "oracle_latent_compulsivity_auc": float(roc_auc_score(test["is_at_risk"], test["compulsivity"])),
        },
        "reliability_model": report.model["reliability"],
        "segment_max_gaps": {column: {scorer: r["max_gap"] for scorer, r in by.items()}
                             for column, by in report.segments.items()},
        "mean_predicted_vs_observed": [float(predictions["model"].mean()), float(predictions["label"].mean())],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--events-per-day", type=int, default=40_000)
    parser.add_argument("--survey-share", type=float, default=0.1)
    parser.add_argument("--window-days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", type=Path)
    parser.add_argument("--reuse", action="store_true", help="keep the built home if its parameters match")
    parser.add_argument("--measure-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print("__RESULT__" + json.dumps(measure(args.measure_only, args.window_days, args.repeats)))
        return
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="attnflow-bench-health-"))
    home = work / "home"
    built = build(home, args)
    out = subprocess.run([sys.executable, __file__, "--measure-only", str(home), "--window-days",
                          str(args.window_days), "--repeats", str(args.repeats)],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    line = next((l for l in out.stdout.splitlines() if l.startswith("__RESULT__")), None)
    if line is None:
        raise RuntimeError(out.stdout[-3000:] + out.stderr[-3000:])
    write_results("health_model", {"build": built, **json.loads(line[len("__RESULT__"):])})
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
