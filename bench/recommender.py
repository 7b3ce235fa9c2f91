"""Recommender at 100k users x 20k items: ALS training time, peak memory and ranking quality on a time split,
side by side with the popularity and random baselines and the generator's true preferences (the oracle).

Interactions come straight from the generator's world (ml/synthetic/interactions.py: views drawn exactly as the
full event generator draws them, attention = engaged minutes), `--days` days of `--views-per-day` views; the
model trains on all days but the last and is evaluated on the last (recall@K, NDCG@K, MAP@K, coverage, popularity
bias). Training time is the best of `--repeats` fits of the same data.

    .venv/bin/python bench/recommender.py [--users 100000] [--items 20000] [--days 7] [--views-per-day 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))
from _common import write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--views-per-day", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from ml.recommend import RecommenderConfig
    from ml.recommend.evaluate import evaluate_recommender
    from ml.recommend.oracle import GeneratorOracle
    from ml.recommend.recommender import Recommender
    from ml.recommend.split import time_split
    from ml.synthetic.interactions import simulate_view_interactions
    from ml.synthetic.world import build_world

    # The world's user count follows the volume (one user per 40 events a day); the catalogue is set directly.
    world = build_world(args.seed, args.users * 40, n_items=args.items)
    started = time.perf_counter()
    interactions = simulate_view_interactions(world, args.days, args.views_per_day, seed=args.seed)
    simulate_s = time.perf_counter() - started
    split = time_split(interactions)
    config = RecommenderConfig()

    fits = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        model = Recommender.fit(split.train, config)
        fits.append(time.perf_counter() - started)
    started = time.perf_counter()
    evaluation = evaluate_recommender(model, split, oracle=GeneratorOracle(world))
    evaluate_s = time.perf_counter() - started

    k = config.k
    rankers = {name: {metric: round(values[metric], 4) for metric in
                      (f"recall@{k}", f"ndcg@{k}", f"map@{k}", "coverage", "popularity_bias")}
               for name, values in evaluation["rankers"].items()}
    model_recall, popular_recall = rankers["model"][f"recall@{k}"], rankers["popularity"][f"recall@{k}"]
    oracle_recall = rankers["oracle"][f"recall@{k}"]
    write_results("recommender", {
        "command": "bench/recommender.py " + " ".join(sys.argv[1:]),
        "world": {"users": world.n_users, "items": world.n_items},
        "interactions": {"days": args.days, "views_per_day": args.views_per_day,
                         "user_item_days": len(interactions), "train_rows": len(split.train),
                         "train_users": int(split.train["user"].nunique()), "catalogue_items": len(model.items),
                         "test_users": evaluation["test_users"], "cold_test_users": evaluation["cold_test_users"]},
        "config": {key: value for key, value in config.to_dict().items() if key != "weights"},
        "seconds": {"simulate": round(simulate_s, 1), "fit_best": round(min(fits), 1),
                    "fit_all": [round(f, 1) for f in fits], "evaluate_all_rankers": round(evaluate_s, 1)},
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rankers": rankers,
        f"recall@{k}_model_over_popularity": round(model_recall / popular_recall, 3),
        f"fraction_of_oracle_gap_closed_recall@{k}": round((model_recall - popular_recall)
                                                           / (oracle_recall - popular_recall), 3),
    })


if __name__ == "__main__":
    main()
