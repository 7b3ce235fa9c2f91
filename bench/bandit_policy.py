"""Ad policy from logged bandit feedback: policy learning time and quality vs training size, and off-policy
estimator error vs evaluation size, all against the generator's truth.

Logged feedback comes from the generator's own serving policy and click model (ml.bandit.simulate: the same
functions that write the landing files, without sessions or files), in the world of `--events-per-day`.

1. Policy learning: Vowpal Wabbit (`--cb_type dm`, the default, and `mtr` for comparison) trained on the first
   N rows of one log, for each N in --train-sizes; seconds, rows/s, and the learned policy's *true* value and
   uplift over the logging policy on a separate --test-rows log (every candidate's true click probability is
   known there).
2. Estimator error: a target policy (VW trained on --target-train-rows rows) is evaluated with IPS, SNIPS and DR
   (its reward model fitted on the same training rows) on --replicates independent logs of each size in
   --eval-sizes; per estimator and size: bias, RMSE and mean absolute error against the true value on the
   same contexts, and the share of 95% bootstrap intervals that cover it (--bootstrap resamples).

    .venv/bin/python bench/bandit_policy.py [--train-sizes 10000 30000 100000 300000] [--test-rows 50000]
        [--eval-sizes 3000 10000 30000 100000] [--replicates 20] [--bootstrap 300] [--events-per-day 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402

from ml.bandit import BanditPolicy, BootstrapConfig, RewardModel, estimate_value, true_value  # noqa: E402
from ml.bandit.ad_schema import AD_POLICY_CONFIG  # noqa: E402
from ml.bandit.simulate import simulate_logged_feedback  # noqa: E402

SEED = 3


def policy_learning(train_sizes: list[int], test_rows: int, events_per_day: int) -> list[dict]:
    log = simulate_logged_feedback(max(train_sizes), seed=SEED, events_per_day=events_per_day)
    test = simulate_logged_feedback(test_rows, seed=SEED, events_per_day=events_per_day, replicate=1)
    logging = true_value(test.logging_probs, test.true_click_probs)
    best = float(test.true_click_probs.max(axis=1).mean())
    rows = []
    for cb_type in ("dm", "mtr"):
        config = replace(AD_POLICY_CONFIG, cb_type=cb_type) if cb_type != AD_POLICY_CONFIG.cb_type else \
            AD_POLICY_CONFIG
        if cb_type == "mtr":  # importance-weighted: a smaller rate, more passes (its best setting we found)
            config = replace(config, learning_rate=0.02, passes=6)
        for n in train_sizes:
            train = log.take(np.arange(n)).feedback
            start = time.perf_counter()
            policy = BanditPolicy.train(train, config)
            seconds = time.perf_counter() - start
            learned = true_value(policy.probabilities(test.feedback), test.true_click_probs)
            rows.append({"cb_type": cb_type, "passes": config.passes, "learning_rate": config.learning_rate,
                         "train_rows": n, "seconds": round(seconds, 2), "rows_per_s": round(n * config.passes / seconds),
                         "true_value": round(learned, 5), "logging_true_value": round(logging, 5),
                         "true_uplift": round(learned - logging, 5),
                         "true_uplift_pct": round(100 * (learned / logging - 1), 1),
                         "best_candidate_true_value": round(best, 5)})
            print(rows[-1], flush=True)
    return rows


def estimator_error(eval_sizes: list[int], replicates: int, n_bootstrap: int, target_train_rows: int,
                    events_per_day: int) -> list[dict]:
    train = simulate_logged_feedback(target_train_rows, seed=SEED, events_per_day=events_per_day, replicate=2)
    policy = BanditPolicy.train(train.feedback, AD_POLICY_CONFIG)
    reward_model = RewardModel.fit(train.feedback)
    rows = []
    for n in eval_sizes:
        errors = {name: [] for name in ("ips", "snips", "dr")}
        covered = {name: 0 for name in errors}
        widths = {name: [] for name in errors}
        for r in range(replicates):
            log = simulate_logged_feedback(n, seed=SEED, events_per_day=events_per_day, replicate=1000 + r)
            probs = policy.probabilities(log.feedback)
            truth = true_value(probs, log.true_click_probs)
            estimates = estimate_value(log.feedback, probs, reward_model.predict(log.feedback),
                                       BootstrapConfig(n_resamples=n_bootstrap, seed=r))
            for name, estimate in estimates.items():
                errors[name].append(estimate.value - truth)
                covered[name] += estimate.ci_low <= truth <= estimate.ci_high
                widths[name].append(estimate.ci_high - estimate.ci_low)
        for name, errs in errors.items():
            errs = np.asarray(errs)
            rows.append({"eval_rows": n, "estimator": name, "replicates": replicates,
                         "bias": float(errs.mean()), "rmse": float(np.sqrt((errs ** 2).mean())),
                         "mean_abs_error": float(np.abs(errs).mean()),
                         "ci95_coverage": covered[name] / replicates,
                         "mean_ci_width": float(np.mean(widths[name]))})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000])
    parser.add_argument("--test-rows", type=int, default=50_000)
    parser.add_argument("--eval-sizes", type=int, nargs="+", default=[3_000, 10_000, 30_000, 100_000])
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=300)
    parser.add_argument("--target-train-rows", type=int, default=100_000)
    parser.add_argument("--events-per-day", type=int, default=100_000, help="world size (ads = this / 1000)")
    args = parser.parse_args()
    learning = policy_learning(args.train_sizes, args.test_rows, args.events_per_day)
    errors = estimator_error(args.eval_sizes, args.replicates, args.bootstrap, args.target_train_rows,
                             args.events_per_day)
    write_results("bandit_policy", {"events_per_day_world": args.events_per_day, "policy_learning": learning,
                                    "estimator_error": errors})


if __name__ == "__main__":
    main()
