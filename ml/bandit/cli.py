"""Command line: off-policy evaluation on any logged-feedback table (CSV / TSV / Parquet).

    python -m ml.bandit evaluate FILE --context C1,C2,... [--action action] [--reward reward]
                                      [--propensity propensity] [--position COL] [--candidates candidates]
                                      [--time-column COL] [--train-fraction 0.5] [--n-bootstrap 1000]
                                      [--out report.json] [--save-policy DIR]

One row per logged decision: the context columns the policy saw, the chosen action, the reward (e.g. click 0/1),
the propensity (the logging policy's probability of that action, in (0, 1]), optionally the position/slot it
was shown in (used as context) and the candidate actions it chose from (a JSON array or ids joined by `|`;
without the column every action seen in the table is a candidate, e.g. the Open Bandit Dataset's items).

The rows are split by time (--time-column) or file order: a Vowpal Wabbit policy and the DR reward model are
trained on the first --train-fraction, and on the rest the learned policy, a uniform-random policy and the
logging policy are evaluated with IPS, SNIPS and DR, each with a bootstrap confidence interval, plus the paired
uplift of the learned policy over the logging policy. A missing, zero or out-of-range propensity is an error
naming the rows (exit status 2).

Example, the Open Bandit Dataset's CSV (fixed item set, so no candidates column), in one line:

    python -m ml.bandit evaluate random/all/all.csv --action item_id --reward click --propensity propensity_score
        --context user_feature_0,user_feature_1,user_feature_2,user_feature_3 --position position
        --time-column timestamp --out obd_random.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .estimators import LOGGING_POLICY, BootstrapConfig, uniform_policy_probs
from .evaluation import LOGGING, evaluate_policies
from .feedback import FeedbackColumns, from_frame, read_table
from .policy import BanditPolicy, PolicyConfig
from .reward_model import RewardModel


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return evaluate(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.bandit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("evaluate", help="learn a policy on early rows, evaluate policies on the rest")
    ev.add_argument("data", type=Path, help="logged-feedback table: .csv, .tsv or .parquet")
    ev.add_argument("--context", required=True, help="comma-separated context columns")
    ev.add_argument("--action", default="action")
    ev.add_argument("--reward", default="reward")
    ev.add_argument("--propensity", default="propensity")
    ev.add_argument("--position", help="position/slot column (used as context)")
    ev.add_argument("--candidates", default="candidates",
                    help="candidate-set column (absent from the table: every action seen is a candidate)")
    ev.add_argument("--time-column", help="order the rows by this column before splitting (default: file order)")
    ev.add_argument("--train-fraction", type=float, default=0.5)
    ev.add_argument("--epsilon", type=float, default=PolicyConfig.epsilon, help="exploration of the learned policy")
    ev.add_argument("--n-bootstrap", type=int, default=BootstrapConfig.n_resamples)
    ev.add_argument("--confidence", type=float, default=BootstrapConfig.confidence)
    ev.add_argument("--out", type=Path, help="write the evaluation as JSON here")
    ev.add_argument("--save-policy", type=Path, help="save the learned VW policy in this folder")
    return parser.parse_args(argv)


def evaluate(args: argparse.Namespace) -> int:
    if not 0 < args.train_fraction < 1:
        raise ValueError("--train-fraction must be in (0, 1)")
    table = read_table(args.data)
    if args.time_column:
        table = table.sort_values(args.time_column, kind="stable")
    columns = FeedbackColumns(context=tuple(c.strip() for c in args.context.split(",") if c.strip()),
                              action=args.action, reward=args.reward, propensity=args.propensity,
                              candidates=args.candidates, position=args.position)
    feedback = from_frame(table, columns)
    cut = int(len(feedback) * args.train_fraction)
    if cut == 0 or cut == len(feedback):
        raise ValueError(f"{len(feedback)} rows: too few to split into training and evaluation rows")
    train, test = feedback.take(np.arange(cut)), feedback.take(np.arange(cut, len(feedback)))
    policy = BanditPolicy.train(train, PolicyConfig(epsilon=args.epsilon))
    q = RewardModel.fit(train).predict(test)
    policies = {"learned": policy.probabilities(test), "uniform": uniform_policy_probs(test), LOGGING: LOGGING_POLICY}
    evaluation = evaluate_policies(test, policies, "learned", LOGGING, q,
                                   BootstrapConfig(n_resamples=args.n_bootstrap, confidence=args.confidence))
    print(f"{len(train)} training rows, {len(test)} evaluation rows, {test.n_candidates} candidates per row; "
          f"{args.confidence:.0%} bootstrap intervals ({args.n_bootstrap} resamples)\n")
    print(evaluation.markdown())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"train_rows": len(train), **evaluation.to_dict()}, indent=2))
    if args.save_policy:
        policy.save(args.save_policy)
    return 0
