"""Train on a time split, evaluate against the baselines, and describe the result for the registry and the UI."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import RecommenderConfig
from .evaluate import Oracle, evaluate_recommender
from .recommender import Recommender
from .split import time_split

RANKER_ORDER = ("model", "popularity", "random", "oracle")


@dataclass
class RecommenderReport:
    config: dict
    split: dict
    evaluation: dict
    training: dict = field(default_factory=dict)

    @property
    def model(self) -> dict:
        return self.evaluation["rankers"]["model"]

    def metric(self, ranker: str, name: str) -> float | None:
        return self.evaluation["rankers"].get(ranker, {}).get(name)

    def metric_names(self) -> list[str]:
        k = self.config["k"]
        return [f"recall@{k}", f"ndcg@{k}", f"map@{k}", "coverage", "popularity_bias"]

    def metrics_table(self) -> str:
        """Plain-text table of every ranker's metrics (logs, CLI)."""
        names = self.metric_names()
        lines = [f"{'ranker':<24}" + "".join(f"{n:>16}" for n in names) + f"{'users':>8}"]
        rows = {**{r: self.evaluation["rankers"][r] for r in RANKER_ORDER if r in self.evaluation["rankers"]},
                **self.evaluation["model_by_reason"]}
        for ranker, values in rows.items():
            lines.append(f"{ranker:<24}" + "".join(f"{values[n]:>16.4f}" for n in names) + f"{values['users']:>8}")
        return "\n".join(lines)

    def fraction_of_oracle_gap_closed(self, metric: str) -> float | None:
        """(model - popularity) / (oracle - popularity) on `metric`: 1 = as good as the truth."""
        model, popular, oracle = (self.metric(r, metric) for r in ("model", "popularity", "oracle"))
        if oracle is None or oracle == popular:
            return None
        return (model - popular) / (oracle - popular)

    def registry_metadata(self, data_version: str) -> dict:
        return {"metrics": self.model, "data_version": data_version, "config": self.config, "split": self.split,
                "evaluation": self.evaluation, "training": self.training}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"config": self.config, "split": self.split, "evaluation": self.evaluation,
                                    "training": self.training}, indent=2, default=str))


def train_recommender(interactions: pd.DataFrame, config: RecommenderConfig | None = None, test_day=None,
                      oracle: Oracle | None = None) -> tuple[Recommender, RecommenderReport]:
    """Fit on the days before `test_day` (default: the latest day) and evaluate on it. The returned model is the
    evaluated one (never refit on the test day), so the registry compares exactly what will be served."""
    config = config or RecommenderConfig()
    split = time_split(interactions, test_day)
    started = time.perf_counter()
    recommender = Recommender.fit(split.train, config)
    fit_seconds = time.perf_counter() - started
    evaluation = evaluate_recommender(recommender, split, oracle=oracle, seed=config.random_state)
    training = {"fit_seconds": round(fit_seconds, 3), "users": int(split.train["user"].nunique()),
                "items": len(recommender.items), "interactions": len(split.train)}
    return recommender, RecommenderReport(config.to_dict(), split.describe(), evaluation, training)
