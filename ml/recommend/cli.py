"""Command line for the recommender, on any interaction log.

    python -m ml.recommend train --interactions FILE [--user user] [--item item] [--timestamp timestamp]
                                 [--weight COLUMN] [--test-day YYYY-MM-DD] [--k 20] [--factors 16]
                                 [--regularization 1.0] [--alpha 4.0] [--iterations 15] [--include-seen]
                                 [--out DIR]

FILE is .csv, .tsv, .parquet or .jsonl: one row per event with a user, an item, a timestamp (ISO-8601 or Unix
seconds; days are UTC) and optionally a weight (rating, play count, minutes; without one every event counts 1).
The model trains on the days before the test day (default: the latest day) and is evaluated on it against a
popularity and a random baseline; the metrics table is printed. With --out DIR the model is saved there (load it
with ml.recommend.Recommender.load) with DIR/report.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import RecommenderConfig
from .interactions import interactions_from_events, read_table
from .train import train_recommender


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return train(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.recommend", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train on the days before the test day, evaluate on it")
    run.add_argument("--interactions", type=Path, required=True)
    run.add_argument("--user", default="user", help="user column (default: user)")
    run.add_argument("--item", default="item", help="item column (default: item)")
    run.add_argument("--timestamp", default="timestamp", help="timestamp column (default: timestamp)")
    run.add_argument("--weight", help="weight column (default: every event counts 1)")
    run.add_argument("--test-day", help="day to evaluate on (default: the latest day in the file)")
    defaults = RecommenderConfig()
    run.add_argument("--k", type=int, default=defaults.k)
    run.add_argument("--factors", type=int, default=defaults.factors)
    run.add_argument("--regularization", type=float, default=defaults.regularization)
    run.add_argument("--alpha", type=float, default=defaults.alpha)
    run.add_argument("--iterations", type=int, default=defaults.iterations)
    run.add_argument("--include-seen", action="store_true", help="also recommend items the user already had")
    run.add_argument("--out", type=Path, help="folder for the model and report.json")
    return parser.parse_args(argv)


def train(args: argparse.Namespace) -> int:
    if not args.interactions.exists():
        raise FileNotFoundError(f"{args.interactions} does not exist")
    events = read_table(args.interactions)
    interactions = interactions_from_events(events, user=args.user, item=args.item, timestamp=args.timestamp,
                                            weight=args.weight)
    config = RecommenderConfig(k=args.k, factors=args.factors, regularization=args.regularization, alpha=args.alpha,
                               iterations=args.iterations, exclude_seen=not args.include_seen)
    model, report = train_recommender(interactions, config, test_day=args.test_day)
    print(f"trained on {report.split['train_rows']} user-item-days of {len(report.split['train_days'])} day(s), "
          f"{report.training['users']} users x {report.training['items']} items; "
          f"test day {report.split['test_day']}: {report.evaluation['test_users']} users")
    print(report.metrics_table())
    if args.out:
        model.save(args.out)
        report.write(args.out / "report.json")
        print(f"model and report.json written to {args.out}")
    return 0
