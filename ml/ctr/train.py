"""Fit the LightGBM CTR model on the earlier days, stop early on the next, evaluate on the latest.

    model, report = train_ctr_model(df)                  # attnflow's marts.fct_ctr_training
    model, report = train_ctr_model(df, FeatureSpec.criteo())

The category maps (and every baseline) see the training days only, so the validation and test days are scored
exactly as tomorrow's traffic would be: new ads / values fall into the rare bucket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml import metrics

from .baselines import GlobalCtrBaseline, HistoricalCtrBaseline, LogisticRegressionBaseline
from .config import CtrTrainingConfig
from .evaluate import ID_COLUMN, LABEL_COLUMN, MODEL_COLUMN, EvaluationReport, class_balance
from .features import FeatureEncoder, FeatureSpec
from .model import CtrModel
from .split import DataSplit, split_table


@dataclass
class PreparedData:
    """The table after validation, time split and encoding: exactly what LightGBM is fitted on."""

    rows: pd.DataFrame  # the table in canonical (time, id) order
    spec: FeatureSpec
    split: DataSplit
    encoder: FeatureEncoder
    matrices: dict[str, np.ndarray]  # "train" / "validation" / "test" -> encoded float32 matrix
    labels: dict[str, np.ndarray]

    def part(self, name: str) -> pd.DataFrame:
        return self.rows.iloc[getattr(self.split, name)]


def prepare_training_data(df: pd.DataFrame, spec: FeatureSpec | None = None,
                          config: CtrTrainingConfig | None = None) -> PreparedData:
    """Check the table, split it by time and encode each part with category maps fitted on the training part.

    Raises ValueError for an empty table, missing columns, labels other than 0/1, too few days to split, an
    empty part, or a training window holding one class only.
    """
    config = config or CtrTrainingConfig()
    if df.empty:
        raise ValueError("the training table is empty")
    spec = spec or FeatureSpec.infer(df)
    spec.require_columns(df, for_training=True)
    df = _canonical_order(df, spec)
    labels = _labels(df[spec.label])
    split = split_table(df, spec.time_column, config.split)
    _check_parts(split, labels)
    parts = ("train", "validation", "test")
    # Fit the category maps on the training rows' categorical columns only, encode the whole table once and
    # slice the matrix: no copy of the full frame per part.
    encoder = FeatureEncoder.fit(df[list(spec.categorical)].iloc[split.train], spec, config.min_category_count)
    matrix = encoder.transform(df)
    return PreparedData(
        rows=df, spec=spec, split=split, encoder=encoder,
        matrices={part: matrix[getattr(split, part)] for part in parts},
        labels={part: labels[getattr(split, part)] for part in parts},
    )


def train_ctr_model(
    df: pd.DataFrame, spec: FeatureSpec | None = None, config: CtrTrainingConfig | None = None
) -> tuple[CtrModel, EvaluationReport]:
    """Train on a CTR table; return the model and its evaluation on the held-out test days.

    spec defaults to FeatureSpec.infer(df) (attnflow's spec for attnflow's table). The input's row order does
    not matter when there is a time column. Bad input raises ValueError (see prepare_training_data).
    """
    config = config or CtrTrainingConfig()
    started = time.perf_counter()
    data = prepare_training_data(df, spec, config)
    spec, split, encoder, matrices, y = data.spec, data.split, data.encoder, data.matrices, data.labels
    encoded = time.perf_counter()

    params = config.resolved_lightgbm_params()
    booster = fit_booster(matrices["train"], y["train"], matrices["validation"], y["validation"], encoder,
                          params, config.num_boost_round, config.early_stopping_rounds)
    model = CtrModel(booster, encoder, params, booster.best_iteration or booster.current_iteration())
    trained = time.perf_counter()

    test_predictions = pd.DataFrame({
        ID_COLUMN: data.rows[spec.id_column].to_numpy()[split.test] if spec.id_column else split.test,
        LABEL_COLUMN: y["test"],
        MODEL_COLUMN: model.predict_matrix(matrices["test"]),
    })
    baselines = {}
    if config.baselines:
        for name, predictions in _baseline_predictions(data, config).items():
            test_predictions[name] = predictions
            baselines[name] = metrics.binary_report(y["test"], predictions, config.calibration_bins,
                                                    with_reliability=False)
    finished = time.perf_counter()

    report = EvaluationReport(
        model=metrics.binary_report(y["test"], test_predictions[MODEL_COLUMN], config.calibration_bins),
        baselines=baselines,
        feature_importance=model.feature_importance(),
        split=split.describe(),
        class_balance={part: class_balance(values) for part, values in y.items()},
        params=params,
        best_iteration=model.best_iteration,
        feature_spec=spec.to_dict(),
        training_config=config.to_dict(),
        category_stats=encoder.category_maps.training_counts,
        timings_s={"split_and_encode": encoded - started, "lightgbm": trained - encoded,
                   "evaluate_and_baselines": finished - trained, "total": finished - started},
        test_predictions=test_predictions,
    )
    return model, report


def fit_booster(train_matrix: np.ndarray, train_labels: np.ndarray, validation_matrix: np.ndarray,
                validation_labels: np.ndarray, encoder: FeatureEncoder, params: dict, num_boost_round: int,
                early_stopping_rounds: int) -> lgb.Booster:
    """LightGBM with the categorical columns declared as such, early-stopped on validation logloss."""
    common = {"feature_name": encoder.feature_names, "categorical_feature": encoder.categorical_indices,
              "free_raw_data": True}
    train_set = lgb.Dataset(train_matrix, train_labels, params=params, **common)
    validation_set = lgb.Dataset(validation_matrix, validation_labels, reference=train_set, **common)
    return lgb.train(
        {**params, "metric": "binary_logloss"}, train_set, num_boost_round=num_boost_round,
        valid_sets=[validation_set], valid_names=["validation"],
        callbacks=[lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)],
    )


def _canonical_order(df: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Rows sorted by (time, id), so the same table gives the same model however it was read: LightGBM's
    bagging samples rows by position. Without a time column the file order is the time order and is kept."""
    if spec.time_column is None:
        return df
    keys = [spec.time_column] + ([spec.id_column] if spec.id_column else [])
    return df.sort_values(keys, kind="stable", ignore_index=True)


def _labels(values: pd.Series) -> np.ndarray:
    if values.isna().any():
        raise ValueError(f"the label column {values.name!r} has {int(values.isna().sum())} missing values")
    labels = pd.to_numeric(values, errors="coerce")
    if labels.isna().any() or not labels.isin((0, 1)).all():
        bad = values[labels.isna() | ~labels.isin((0, 1))].astype(str).unique()[:5].tolist()
        raise ValueError(f"the label column {values.name!r} must hold 0/1, found {bad}")
    return labels.to_numpy(dtype=np.float64)


def _check_parts(split: DataSplit, labels: np.ndarray) -> None:
    for part in ("train", "validation", "test"):
        if len(getattr(split, part)) == 0:
            raise ValueError(f"the {part} window {getattr(split, f'{part}_periods')} has no rows")
    classes = np.unique(labels[split.train])
    if len(classes) < 2:
        raise ValueError(f"the training window {split.train_periods[0]} .. {split.train_periods[-1]} holds only "
                         f"label {int(classes[0])}: a click model needs clicks and non-clicks")


def _baseline_predictions(data: PreparedData, config: CtrTrainingConfig) -> dict[str, np.ndarray]:
    """Test-row predictions of each baseline, fitted on the training rows."""
    spec, matrices, y = data.spec, data.matrices, data.labels
    out = {}
    global_ctr = GlobalCtrBaseline().fit(y["train"])
    out[global_ctr.name] = global_ctr.predict(len(y["test"]))
    if spec.entity_column:
        entities = data.rows[spec.entity_column]
        historical = HistoricalCtrBaseline(spec.entity_column, config.entity_prior_strength)
        historical.fit(entities.iloc[data.split.train], y["train"])
        out[historical.name] = historical.predict(entities.iloc[data.split.test])
    n_categorical = len(spec.categorical)
    logistic = LogisticRegressionBaseline(list(range(n_categorical)),
                                          list(range(n_categorical, len(spec.features))),
                                          config.logistic_max_rows, seed=config.seed)
    out[logistic.name] = logistic.fit(matrices["train"], y["train"]).predict(matrices["test"])
    return out
