"""What a CTR training run reports, and how it compares with the ground truth when there is one.

The `EvaluationReport` is measured on the held-out test days only. Its test predictions (model and baselines,
one row per test impression) stay on the object so the synthetic ground truth can be joined on afterwards:
`oracle_comparison` scores the true click probabilities on the same rows. The oracle is the best any model can
do on those rows, the per-ad historical CTR is what a model-free ad server does, and "fraction of the gap
closed" says how far from the one towards the other the model got (1 = as good as the truth).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ml import metrics

from .split import rows_in_periods

MODEL_COLUMN = "model"
LABEL_COLUMN = "label"
ID_COLUMN = "id"


@dataclass
class EvaluationReport:
    """Metrics on the test days for the model and each baseline, plus what the run was trained on."""

    model: dict  # metrics.binary_report of the model on the test rows (with the reliability table)
    baselines: dict[str, dict]  # baseline name -> metrics.binary_report (without reliability)
    feature_importance: list[dict]
    split: dict  # mode, the periods (days) of each part, row counts
    class_balance: dict[str, dict]  # part -> rows, positives, positive_rate
    params: dict  # LightGBM parameters as trained
    best_iteration: int
    feature_spec: dict
    training_config: dict
    category_stats: dict  # per categorical column: distinct / kept values and rare rows in training
    timings_s: dict
    oracle: dict | None = None
    # One row per test row: id, label, model, one column per baseline. Not part of to_dict (large).
    test_predictions: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def reference_baseline(self) -> str:
        """The baseline the oracle gap is measured from: per-entity (ad) historical CTR, else global CTR."""
        return next((b for b in self.baselines if b.startswith("historical_ctr_by_")), "global_ctr")

    def to_dict(self) -> dict:
        return _json_ready({f.name: getattr(self, f.name) for f in fields(self) if f.name != "test_predictions"})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())
        return path

    def attach_oracle(self, truth: pd.DataFrame, **columns) -> dict:
        """oracle_comparison(self, truth), kept on the report (and in to_dict) as `oracle`."""
        self.oracle = oracle_comparison(self, truth, **columns)
        return self.oracle

    def test_rows(self, df: pd.DataFrame) -> pd.DataFrame:
        """The rows of df that fall in this report's test days: the rows to score another model on when
        comparing it with this one (e.g. for ModelRegistry.promote_if_not_worse)."""
        time_column = self.feature_spec["time_column"]
        if time_column is None:
            raise ValueError("this model was split by row order; its test rows are positions, not days")
        return rows_in_periods(df, time_column, self.split["test_periods"])

    def summary_metrics(self) -> dict:
        """The model's headline test metrics (and the oracle figures when attached), flat, for the registry."""
        summary = {k: self.model[k] for k in ("auc", "logloss", "normalized_entropy", "ece")}
        if self.oracle:
            summary["oracle_auc"] = self.oracle["oracle"]["auc"]
            summary["oracle_logloss"] = self.oracle["oracle"]["logloss"]
            closed = self.oracle["fraction_of_gap_closed"]
            summary["fraction_of_gap_closed_auc"] = closed["auc"]
            summary["fraction_of_gap_closed_logloss"] = closed["logloss"]
        return summary

    def registry_metadata(self, data_version: str | None = None) -> dict:
        """What ModelRegistry.register wants to know about this run."""
        return {
            "metrics": self.summary_metrics(),
            "baselines": {name: {k: m[k] for k in ("auc", "logloss", "normalized_entropy")}
                          for name, m in self.baselines.items()},
            "params": self.params,
            "best_iteration": self.best_iteration,
            "training_window": {part: self.split[f"{part}_periods"] for part in ("train", "validation", "test")},
            "rows": self.split["rows"],
            "data_version": data_version,
            "feature_spec": self.feature_spec,
        }

    def metrics_table(self) -> str:
        """A fixed-width table of the test metrics: the model, each baseline, and the oracle if attached."""
        rows = [(MODEL_COLUMN, self.model)] + list(self.baselines.items())
        if self.oracle:
            rows.append(("oracle (true click prob.)", self.oracle["oracle"]))
        width = max(len(name) for name, _ in rows)
        lines = [f"{'':{width}}  {'AUC':>7}  {'logloss':>8}  {'NE':>7}  {'ECE':>7}"]
        for name, m in rows:
            lines.append(f"{name:{width}}  {_fmt(m.get('auc'))}  {_fmt(m.get('logloss'), 8)}  "
                         f"{_fmt(m.get('normalized_entropy'))}  {_fmt(m.get('ece'))}")
        test = self.class_balance["test"]
        lines.append(f"test: {', '.join(self.split['test_periods'])} ({test['rows']} rows, "
                     f"CTR {test['positive_rate']:.4f}); best iteration {self.best_iteration}")
        if self.oracle and self.oracle["reference_baseline"]:
            closed = self.oracle["fraction_of_gap_closed"]
            lines.append(f"gap from {self.oracle['reference_baseline']} to the oracle closed by the model: "
                         f"AUC {_fmt(closed['auc'], 0).strip()}, logloss {_fmt(closed['logloss'], 0).strip()}")
        return "\n".join(lines)


def oracle_comparison(
    report_or_predictions: EvaluationReport | pd.DataFrame,
    truth: pd.DataFrame,
    truth_id_column: str = "event_id",
    truth_probability_column: str = "true_click_prob",
    reference_baseline: str | None = None,
) -> dict:
    """Score the true click probability on the same test rows as the model.

    report_or_predictions: an EvaluationReport, or a DataFrame with columns id, label, model and the reference
    baseline (as in EvaluationReport.test_predictions). truth: rows with `truth_id_column` (matching the spec's
    id column, e.g. impression_id = event_id) and `truth_probability_column`. Test rows without a truth row are
    left out of every figure here (their count is reported).

    Returns the oracle's AUC / logloss, the model's and the reference baseline's on the same rows, the model's
    gap to the oracle, and the fraction of the baseline -> oracle gap the model closes, by AUC and by logloss.
    """
    if isinstance(report_or_predictions, EvaluationReport):
        predictions = report_or_predictions.test_predictions
        reference_baseline = reference_baseline or report_or_predictions.reference_baseline
        if predictions is None:
            raise ValueError("the report carries no test predictions (was it loaded from JSON?)")
    else:
        predictions = report_or_predictions
        reference_baseline = reference_baseline or next(
            (c for c in predictions.columns if c.startswith("historical_ctr_by_")), "global_ctr")
    missing = [c for c in (ID_COLUMN, LABEL_COLUMN, MODEL_COLUMN) if c not in predictions.columns]
    if missing:
        raise ValueError(f"predictions lack columns: {', '.join(missing)}")
    missing = [c for c in (truth_id_column, truth_probability_column) if c not in truth.columns]
    if missing:
        raise ValueError(f"truth lacks columns: {', '.join(missing)}")

    truth_probability = truth.drop_duplicates(truth_id_column).set_index(truth_id_column)[truth_probability_column]
    joined = predictions.assign(oracle=predictions[ID_COLUMN].map(truth_probability))
    matched = joined.dropna(subset=["oracle"])
    if matched.empty:
        raise ValueError(f"no test row's id is in the truth's {truth_id_column!r}")
    y = matched[LABEL_COLUMN].to_numpy()
    if reference_baseline not in matched.columns:  # trained without baselines: no gap to measure
        reference_baseline = None
    scores = {name: {"auc": metrics.auc(y, matched[name]), "logloss": metrics.log_loss(y, matched[name]),
                     "normalized_entropy": metrics.normalized_entropy(y, matched[name]),
                     "ece": metrics.expected_calibration_error(y, matched[name])}
              for name in ("oracle", MODEL_COLUMN, reference_baseline) if name is not None}
    oracle, model = scores["oracle"], scores[MODEL_COLUMN]
    baseline = scores.get(reference_baseline, {"auc": None, "logloss": None})
    return {
        "rows_matched": int(len(matched)),
        "rows_without_truth": int(len(joined) - len(matched)),
        "reference_baseline": reference_baseline,
        "oracle": oracle,
        "model": model,
        "baseline": baseline,
        "model_gap_to_oracle": {"auc": oracle["auc"] - model["auc"], "logloss": model["logloss"] - oracle["logloss"]},
        "fraction_of_gap_closed": {
            "auc": _fraction(_difference(model["auc"], baseline["auc"]), _difference(oracle["auc"], baseline["auc"])),
            "logloss": _fraction(_difference(baseline["logloss"], model["logloss"]),
                                 _difference(baseline["logloss"], oracle["logloss"])),
        },
    }


def model_scorer(rows: pd.DataFrame, metric: str = "logloss") -> Callable[[object], float]:
    """A score_fn for ModelRegistry.promote_if_not_worse: loads a registered CTR model (anything with a .path
    holding CtrModel files, or a folder) and scores it on `rows` (which carry the label), so the candidate and
    the serving model are compared on the same test rows. metric: auc, logloss, normalized_entropy or ece."""
    from .model import CtrModel

    functions = {"auc": metrics.auc, "logloss": metrics.log_loss, "normalized_entropy": metrics.normalized_entropy,
                 "ece": metrics.expected_calibration_error}
    if metric not in functions:
        raise ValueError(f"metric must be one of {sorted(functions)}, not {metric!r}")

    def score(registered) -> float:
        model = CtrModel.load(getattr(registered, "path", registered))
        return functions[metric](rows[model.spec.label].to_numpy(), model.predict(rows))

    return score


def class_balance(labels: np.ndarray) -> dict:
    labels = np.asarray(labels)
    positives = int(labels.sum())
    return {"rows": int(len(labels)), "positives": positives,
            "positive_rate": float(positives / len(labels)) if len(labels) else None}


def _fraction(achieved: float | None, possible: float | None) -> float | None:
    """achieved / possible; None without a baseline or when there is no gap to close (the baseline is already
    as good as the truth)."""
    if achieved is None or possible is None or possible <= 0:
        return None
    return float(achieved / possible)


def _difference(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _fmt(value, width: int = 7) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.4f}"


def _json_ready(value):
    """numpy scalars and arrays -> plain Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
