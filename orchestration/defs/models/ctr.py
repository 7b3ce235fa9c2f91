"""CTR model assets: train + register + promote (`ctr_model`), batch scores (`ctr_scores`) and monitoring.

Thin wiring: the modelling is in ml.ctr, the registry in ml.registry, drift maths in ml.monitoring.
`ctr_model` is part of the daily job, so it retrains whenever new data is processed (schedule or landing
sensor) on the latest `window_days` of the CTR training table; the registry promotes the new version only if it
is not worse than the serving one on the same test days. Because it runs in the same run as the data-quality
checks on the training table, a failing blocking check stops it (and the scoring below) in that run.
"""


import datetime as dt
import json

import dagster as dg
import pandas as pd

from orchestration.defs.models.conventions import (chart_metadata, daily_model_asset, model_asset, model_kept,
                                                    replace_event_days, thin_days)
from orchestration.defs.partitions import event_days_to_rescore
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib import model_report_markdown as md
from orchestration.lib.quality_ledger import days_failing_critical
from orchestration.settings import load_settings

TRAINING_TABLE = dg.AssetKey(["marts", "fct_ctr_training"])
# Suites whose failed critical result on a day keeps that day out of training (lib/quality_ledger.py).
QUALITY_GATES = ["raw_events", "fct_ctr_training"]
REGISTRY_NAME = "ctr"
GROUP = "ctr_model"
PSI_WARN = 0.25
CALIBRATION_RATIO_BAND = (0.8, 1.25)


class CtrModelConfig(dg.Config):
    window_days: int = 14
    """Days of the training table used (train + validation + test), ending at the latest day available."""
    promotion_metric: str = "logloss"
    promotion_tolerance: float = 0.002
    """How much worse (absolute, in the metric's units) a new version may be and still be promoted."""
    min_rows_per_day: int = 200
    """Days with fewer impressions are left out of the window. The day before the first landed day holds only the
    late tail of its events; a day that thin can neither train, stop nor test a model."""


def _registry():
    from ml.registry import ModelRegistry

    return ModelRegistry(load_settings().models_dir, REGISTRY_NAME)


def _truth_for(days: list[str]) -> pd.DataFrame | None:
    """The generator's true click probabilities for these days, when the data is synthetic."""
    truth_dir = load_settings().truth_dir
    files = [p for p in truth_dir.glob("dt=*/impressions.parquet")] if truth_dir.is_dir() else []
    if not files:
        return None
    truth = pd.concat([pd.read_parquet(p, columns=["event_id", "event_date", "true_click_prob"]) for p in files])
    return truth[truth["event_date"].astype(str).isin(set(days))]


@model_asset(
    deps=[TRAINING_TABLE],
    group_name=GROUP,
    kinds={"lightgbm", "python"},
    output_required=False,
)
def ctr_model(context: dg.AssetExecutionContext, config: CtrModelConfig, warehouse: DuckDBWarehouse):
    """LightGBM click-through-rate model trained on the latest days of `marts.fct_ctr_training` (time split:
    train on earlier days, early-stop on the next, evaluate on the latest), versioned in the model registry and
    promoted only when not worse than the serving version on the same test days. While the table holds fewer days
    than a time split needs, nothing is trained (materialised with `retrained: false` and the reason)."""
    with warehouse.connect(read_only=True) as conn:
        last_day = conn.execute("SELECT max(event_date) FROM marts.fct_ctr_training").fetchone()[0]
        if last_day is None:
            yield model_kept(context, "marts.fct_ctr_training is empty: nothing to train on yet",
                             _registry().promoted_version())
            return
        first_day = last_day - dt.timedelta(days=config.window_days - 1)
        # Which days can train is decided on their row counts, before the (large) table is read.
        rows_per_day = dict(conn.execute(
            "SELECT CAST(event_date AS VARCHAR), count(*) FROM marts.fct_ctr_training "
            "WHERE event_date BETWEEN ? AND ? GROUP BY 1", [first_day, last_day]).fetchall())
        failing = days_failing_critical(conn, QUALITY_GATES)
        left_out = {str(day): f"failed {why}" for day, why in failing.items() if first_day <= day <= last_day}
        left_out.update({day: why for day, why in thin_days(pd.Series(rows_per_day, dtype="int64"),
                                                            config.min_rows_per_day, "impressions").items()
                         if day not in left_out})
        if left_out:
            context.log.warning(f"leaving days out of training: {left_out}")
        days = sorted(day for day in rows_per_day if day not in left_out)
        if len(days) < 3:
            yield model_kept(context, f"only {len(days)} day(s) of training data ({days}); a time split needs at "
                                      "least 3 (train, validation, test): not training yet",
                             _registry().promoted_version())
            return
        df = conn.execute("SELECT * FROM marts.fct_ctr_training WHERE event_date BETWEEN ? AND ?",
                          [first_day, last_day]).df()
    if left_out:
        df = df[~df["event_date"].astype(str).isin(set(left_out))]

    from ml.ctr import CtrTrainingConfig, train_ctr_model  # lightgbm: imported only when training
    from ml.ctr.evaluate import model_scorer

    model, report = train_ctr_model(df, config=CtrTrainingConfig())
    truth = _truth_for(report.split["test_periods"])
    if truth is not None and len(truth):
        report.attach_oracle(truth)

    def write_artefacts(folder):
        model.save(folder)
        report.write(folder / "report.json")

    registry = _registry()
    data_version = f"fct_ctr_training:{days[0]}..{days[-1]}:{len(df)}rows"
    version = registry.register(write_artefacts, report.registry_metadata(data_version=data_version))
    lower_is_better = config.promotion_metric in ("logloss", "normalized_entropy", "ece")
    decision = registry.promote_if_not_worse(
        version, config.promotion_metric, higher_is_better=not lower_is_better,
        tolerance=config.promotion_tolerance, candidate_score=report.model[config.promotion_metric],
        score_fn=model_scorer(report.test_rows(df), config.promotion_metric),
        must_beat=report.baselines.get("global_ctr", {}).get(config.promotion_metric),
        must_beat_name="the global CTR on the same test days",
    )
    predictions = report.test_predictions
    rows = {"model": report.model, **report.baselines}
    if report.oracle:
        rows["oracle (true click prob.)"] = report.oracle["oracle"]
    metadata = {
        "version": version,
        "promoted": decision.promoted,
        "promotion_decision": decision.reason,
        "serving_version": registry.promoted_version(),
        "training_window": {k: report.split[f"{k}_periods"] for k in ("train", "validation", "test")},
        "rows": report.split["rows"],
        "left_out_days": left_out,
        "test_metrics": dg.MetadataValue.md(md.metrics_table(rows)),
        "calibration": dg.MetadataValue.md(md.reliability_table(report.model["reliability"])),
        "roc_curve": dg.MetadataValue.md(md.roc_table(predictions["label"], predictions["model"])),
        "feature_importance_gain": dg.MetadataValue.md(md.importance_table(report.feature_importance)),
        "auc": report.model["auc"],
        "logloss": report.model["logloss"],
        "best_iteration": report.best_iteration,
        "registry_path": dg.MetadataValue.path(str(registry.get(version).path)),
    }
    if report.oracle:
        metadata["fraction_of_oracle_gap_closed"] = report.oracle["fraction_of_gap_closed"]
    metadata.update(chart_metadata(context, lambda: _charts(report, registry.get(version).path / "charts")))
    context.log.info("\n" + report.metrics_table())
    yield dg.MaterializeResult(metadata=metadata)


def _charts(report, folder):
    """ROC curves (model and baselines), reliability diagram and gain importance of a trained model, as PNGs."""
    from orchestration.lib import model_charts as charts

    predictions = report.test_predictions
    scorers = [name for name in ("model", *report.baselines) if name in predictions]
    return {
        "roc": charts.roc_chart(predictions["label"], {name: predictions[name] for name in scorers},
                                folder / "roc.png"),
        "reliability": charts.reliability_chart(report.model["reliability"], folder / "reliability.png"),
        "feature_importance": charts.importance_chart(report.feature_importance, folder / "feature_importance.png"),
    }


SCORES_DDL = """
CREATE SCHEMA IF NOT EXISTS scores;
CREATE TABLE IF NOT EXISTS scores.ctr_scores (
    impression_id VARCHAR NOT NULL, event_date DATE NOT NULL, model_version VARCHAR NOT NULL,
    p_click DOUBLE NOT NULL, is_clicked INTEGER
);
"""


@daily_model_asset(
    deps=[TRAINING_TABLE, ctr_model],
    group_name=GROUP,
    kinds={"lightgbm", "duckdb"},
    output_required=False,
)
def ctr_scores(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Click probabilities for every impression of the partition (and the day before, for late events) from the
    promoted CTR model, in `scores.ctr_scores`. Re-scoring a day replaces it. Skipped while no model is
    promoted."""
    from ml.ctr import CtrModel

    served = _registry().promoted()
    if served is None:
        context.log.warning("no promoted CTR model yet: nothing to score with")
        return
    model = CtrModel.load(served.path)
    first, last = event_days_to_rescore(context)
    with warehouse.connect() as conn:
        rows = conn.execute("SELECT * FROM marts.fct_ctr_training WHERE event_date BETWEEN ? AND ?",
                            [first, last]).df()
        scored = pd.DataFrame({
            "impression_id": rows["impression_id"], "event_date": rows["event_date"],
            "model_version": served.version,
            "p_click": model.predict(rows) if len(rows) else [], "is_clicked": rows["is_clicked"],
        })
        conn.execute(SCORES_DDL)
        replace_event_days(conn, "scores.ctr_scores", scored, first, last)
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": len(scored),
        "model_version": served.version,
        "event_days": f"{first} .. {last}",
        "mean_p_click": float(scored["p_click"].mean()) if len(scored) else None,
        "observed_ctr": float(scored["is_clicked"].mean()) if len(scored) else None,
    })


MONITORING_DDL = """
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.ctr_daily (
    event_date DATE NOT NULL, model_version VARCHAR NOT NULL, rows BIGINT NOT NULL,
    predicted_ctr DOUBLE, observed_ctr DOUBLE, calibration_ratio DOUBLE, max_psi DOUBLE, max_psi_feature VARCHAR,
    psi JSON
);
"""


@daily_model_asset(
    deps=[ctr_scores],
    group_name=GROUP,
    kinds={"duckdb"},
    output_required=False,
    check_specs=[dg.AssetCheckSpec("ctr_drift_and_calibration", asset="ctr_monitoring",
                                   description=f"Warns when a feature's PSI against the training window exceeds "
                                               f"{PSI_WARN} or predicted/observed CTR leaves "
                                               f"{CALIBRATION_RATIO_BAND}.")],
)
def ctr_monitoring(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Daily predicted vs observed CTR and feature drift (population stability index) of the scored days against
    the promoted model's training days, in `monitoring.ctr_daily`."""
    from ml.ctr import CtrModel
    from ml.monitoring import calibration_snapshot, feature_drift

    served = _registry().promoted()
    if served is None:
        context.log.warning("no promoted CTR model yet: nothing to monitor")
        return
    spec = CtrModel.load(served.path).spec
    train_days = served.metadata["training_window"]["train"]
    first, last = event_days_to_rescore(context)
    with warehouse.connect() as conn:
        reference = conn.execute(
            "SELECT * FROM marts.fct_ctr_training WHERE CAST(event_date AS VARCHAR) IN (SELECT unnest(?))",
            [train_days]).df()
        current = conn.execute(
            "SELECT t.*, s.p_click FROM marts.fct_ctr_training t JOIN scores.ctr_scores s USING (impression_id) "
            "WHERE t.event_date BETWEEN ? AND ?", [first, last]).df()
        daily = []
        for day, part in current.groupby("event_date"):
            snap = calibration_snapshot(part["is_clicked"], part["p_click"])
            drift = feature_drift(reference, part, list(spec.numeric), list(spec.categorical))
            worst = max(drift, key=drift.get) if drift else None
            daily.append({"event_date": day, "model_version": served.version, "rows": snap.rows,
                          "predicted_ctr": snap.predicted_ctr, "observed_ctr": snap.observed_ctr,
                          "calibration_ratio": snap.ratio, "max_psi": drift.get(worst) if worst else None,
                          "max_psi_feature": worst, "psi": json.dumps(drift, sort_keys=True)})
        frame = pd.DataFrame(daily, columns=["event_date", "model_version", "rows", "predicted_ctr", "observed_ctr",
                                             "calibration_ratio", "max_psi", "max_psi_feature", "psi"])
        conn.execute(MONITORING_DDL)
        replace_event_days(conn, "monitoring.ctr_daily", frame, first, last)

    drifted = [r for r in daily if r["max_psi"] is not None and r["max_psi"] > PSI_WARN]
    miscalibrated = [r for r in daily
                     if not CALIBRATION_RATIO_BAND[0] <= r["calibration_ratio"] <= CALIBRATION_RATIO_BAND[1]]
    table = md.metrics_table({str(r["event_date"]): r for r in daily},
                             columns=("rows", "predicted_ctr", "observed_ctr", "calibration_ratio", "max_psi",
                                      "max_psi_feature"))
    yield dg.MaterializeResult(
        metadata={"daily": dg.MetadataValue.md(table), "model_version": served.version},
        check_results=[dg.AssetCheckResult(
            check_name="ctr_drift_and_calibration",
            passed=not drifted and not miscalibrated,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"drifted_days": [str(r["event_date"]) for r in drifted],
                      "miscalibrated_days": [str(r["event_date"]) for r in miscalibrated],
                      "daily": dg.MetadataValue.md(table)},
        )],
    )
