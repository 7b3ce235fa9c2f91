"""Training run of the engagement-health model: split by user, fit + calibrate, evaluate against the minutes rule.

The split is by person, not by time: a person's answers are not independent (their trait does not change between
surveys), so all of a user's answers go to one part, chosen by a hash of the pseudonymised user key. The same user
always lands in the same part, so a later model is never tested on people an earlier one trained on, and two
versions can be compared on the same test answers.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field

import pandas as pd

from .evaluate import MinutesRule, auc_gain_interval, probability_report, segment_error_rates
from .features import FEATURES
from .model import HealthModel, HealthModelParams

LABEL = "is_at_risk"
PARTS = ("train", "calibration", "test")


@dataclass
class HealthTrainingConfig:
    calibration_share: float = 0.2
    test_share: float = 0.2
    reminder_threshold: float = 0.3
    """Calibrated probability at or above which a reminder would be offered; the error rates are measured there."""
    segment_columns: tuple[str, ...] = ("main_device", "main_geo")
    min_segment_rows: int = 30
    params: HealthModelParams = field(default_factory=HealthModelParams)


@dataclass
class HealthReport:
    model: dict  # probability_report on the test answers
    baselines: dict  # name -> probability_report (without reliability)
    segments: dict  # segment column -> segment_error_rates, for the model and for the rule
    auc_gain_over_rule: dict  # AUC(model) - AUC(minutes rule), 95% interval resampling people
    split: dict
    feature_importance: list[dict]
    params: dict
    timings_s: dict
    test_predictions: pd.DataFrame = field(repr=False)

    def summary_metrics(self) -> dict:
        return {k: self.model[k] for k in ("auc", "logloss", "brier", "ece", "positive_rate")}

    def registry_metadata(self, data_version: str, intended_use: str) -> dict:
        """The model card the registry keeps beside the weights."""
        return {
            "metrics": self.summary_metrics(),
            "baselines": {name: {k: m[k] for k in ("auc", "logloss", "brier", "ece")}
                          for name, m in self.baselines.items()},
            "segments": self.segments,
            "auc_gain_over_rule": self.auc_gain_over_rule,
            "rows": self.split["rows"],
            "params": self.params,
            "data_version": data_version,
            "intended_use": intended_use,
            "label": "wellbeing survey: Bergen-style six-item total at or above the at-risk cut-off",
        }


def user_part(user_key: str, calibration_share: float, test_share: float) -> str:
    """train / calibration / test for a user, from a stable hash of the key (same answer in every run)."""
    u = int(hashlib.sha256(user_key.encode()).hexdigest()[:12], 16) / 16**12
    if u < test_share:
        return "test"
    return "calibration" if u < test_share + calibration_share else "train"


def train_health_model(rows: pd.DataFrame, config: HealthTrainingConfig | None = None
                       ) -> tuple[HealthModel, HealthReport]:
    """rows: training_rows output (features, is_at_risk, user_key, segment columns)."""
    config = config or HealthTrainingConfig()
    part = _parts(rows, config)
    parts = {name: rows[part == name] for name in PARTS}
    for name, frame in parts.items():
        if frame[LABEL].nunique() < 2:
            raise ValueError(f"the {name} part holds {len(frame)} answers of one class only: too few survey "
                             "answers to train and evaluate")
    started = time.perf_counter()
    model = HealthModel.fit(parts["train"], parts["calibration"], LABEL, config.params)
    fit_seconds = time.perf_counter() - started

    test = parts["test"]
    y = test[LABEL].astype(int).to_numpy()
    rule = MinutesRule(pd.concat([parts["train"], parts["calibration"]]), LABEL)
    predictions = pd.DataFrame({"user_key": test["user_key"].to_numpy(), "label": y, "model": model.predict(test),
                                "uncalibrated": model.predict_uncalibrated(test), "minutes_rule": rule.predict(test)})
    baselines = {name: probability_report(y, predictions[name]) for name in ("minutes_rule", "uncalibrated")}
    for b in baselines.values():
        b.pop("reliability")
    segments = {}
    for column in config.segment_columns:
        if column in test.columns:
            segments[column] = {scorer: segment_error_rates(y, predictions[scorer], test[column],
                                                            config.reminder_threshold, config.min_segment_rows)
                                for scorer in ("model", "minutes_rule")}
    report = HealthReport(
        model=probability_report(y, predictions["model"]),
        baselines=baselines,
        segments=segments,
        auc_gain_over_rule=auc_gain_interval(y, predictions["model"], predictions["minutes_rule"],
                                             predictions["user_key"]),
        split={"by": "user (hash of user_key)", "rows": {n: len(f) for n, f in parts.items()},
               "positives": {n: int(f[LABEL].sum()) for n, f in parts.items()},
               "users": {n: int(f["user_key"].nunique()) for n, f in parts.items()}},
        feature_importance=model.feature_importance(),
        params={**asdict(config.params), "reminder_threshold": config.reminder_threshold,
                "features": list(FEATURES)},
        timings_s={"fit_and_calibrate": fit_seconds},
        test_predictions=predictions,
    )
    return model, report


def score_on(rows: pd.DataFrame, metric: str = "logloss"):
    """A score_fn for ModelRegistry.promote_if_not_worse: a registered health model's metric on `rows`."""
    from sklearn.metrics import brier_score_loss

    from ml import metrics

    functions = {"auc": metrics.auc, "logloss": metrics.log_loss, "brier": brier_score_loss}
    if metric not in functions:
        raise ValueError(f"metric must be one of {sorted(functions)}, not {metric!r}")

    def score(registered) -> float:
        model = HealthModel.load(getattr(registered, "path", registered))
        return functions[metric](rows[LABEL].astype(int).to_numpy(), model.predict(rows))

    return score


def test_rows(rows: pd.DataFrame, config: HealthTrainingConfig | None = None) -> pd.DataFrame:
    """The answers of rows that fall in the test part: where a candidate and the serving model are compared."""
    return rows[_parts(rows, config or HealthTrainingConfig()) == "test"]


def _parts(rows: pd.DataFrame, config: HealthTrainingConfig) -> pd.Series:
    return rows["user_key"].map(lambda k: user_part(k, config.calibration_share, config.test_share))


__all__ = ["HealthReport", "HealthTrainingConfig", "LABEL", "score_on", "test_rows", "train_health_model",
           "user_part", "np"]
