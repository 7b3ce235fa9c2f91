"""Engagement-health (problematic-use) assets: `health_model` (train + register + promote) and the daily
`user_health_scores`.

Intended use: offering usage reminders and limits to the user themself. Not for ad targeting or any other
monetisation (see ml.health.INTENDED_USE, stated again on both assets and in the model card).

Thin wiring: features, model and evaluation are in ml.health, the registry in ml.registry. The model trains on
wellbeing-survey answers (`staging.stg_raw__wellbeing_surveys`) described by the usage of the days before each
answer (`marts.fct_user_daily_usage`); it is in the daily job, behind the dbt tests on those tables.
"""

import datetime as dt

import dagster as dg
import pandas as pd

from orchestration.defs.models.conventions import (chart_metadata, daily_model_asset, model_asset, model_kept,
                                                   replace_event_days)
from orchestration.defs.partitions import event_days_to_rescore
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib import model_report_markdown as md
from orchestration.lib.quality_ledger import days_failing_critical
from orchestration.settings import load_settings

USAGE_TABLE = dg.AssetKey(["marts", "fct_user_daily_usage"])
SURVEY_TABLE = dg.AssetKey(["staging", "stg_raw__wellbeing_surveys"])
USERS_TABLE = dg.AssetKey(["marts", "dim_users"])
QUALITY_GATES = ["raw_events"]  # a day whose events failed a critical check spoils the features of its window
REGISTRY_NAME = "engagement_health"
GROUP = "engagement_health"
SEGMENT_GAP_WARN = 0.15  # largest tolerated difference in FPR or FNR between comparable segments
NOT_FOR_TARGETING = ("Intended use: offering usage reminders and limits to the user themself. Must not be used for "
                     "ad targeting, pricing, content ranking or any other monetisation.")


class HealthModelConfig(dg.Config):
    window_days: int = 14
    """Days of usage before a survey answer (or a scoring day) that describe the user."""
    survey_days: int = 180
    """Survey answers of this many days, ending at the latest, are used."""
    min_answers: int = 200
    """Fewer usable survey answers than this: not training yet (three parts of too few answers say nothing)."""
    reminder_threshold: float = 0.3
    promotion_metric: str = "logloss"
    """logloss, brier or auc, on the same test answers."""
    promotion_tolerance: float = 0.005


def _registry():
    from ml.registry import ModelRegistry

    return ModelRegistry(load_settings().models_dir, REGISTRY_NAME)


def _first_full_day(conn) -> dt.date | None:
    """The first day the warehouse holds whole: the day before the first landing day holds only late events."""
    counts = conn.execute("SELECT event_date, count(*) FROM marts.fct_user_daily_usage GROUP BY 1 ORDER BY 1").fetchall()
    if not counts:
        return None
    typical = sorted(n for _, n in counts)[len(counts) // 2]
    return next(day for day, n in counts if n >= typical / 2)


@model_asset(
    deps=[USAGE_TABLE, SURVEY_TABLE, USERS_TABLE],
    group_name=GROUP,
    kinds={"lightgbm", "python"},
    output_required=False,
    description="Calibrated LightGBM estimate of the chance that a user would answer the wellbeing survey "
                "at or above its problematic-use cut-off, from the usage of the days before. " + NOT_FOR_TARGETING,
)
def health_model(context: dg.AssetExecutionContext, config: HealthModelConfig, warehouse: DuckDBWarehouse):
    from ml.health import INTENDED_USE, HealthTrainingConfig, training_rows, train_health_model
    from ml.health.train import LABEL, score_on, test_rows

    with warehouse.connect(read_only=True) as conn:
        last = conn.execute("SELECT max(survey_date) FROM staging.stg_raw__wellbeing_surveys").fetchone()[0]
        first_full = _first_full_day(conn)
        if last is None or first_full is None:
            yield model_kept(context, "no survey answers or no usage yet: nothing to train on",
                             _registry().promoted_version())
            return
        first = last - dt.timedelta(days=config.survey_days - 1)
        surveys = conn.execute(
            "SELECT s.response_id, s.user_key, s.survey_date, s.is_at_risk, u.main_geo "
            "FROM staging.stg_raw__wellbeing_surveys s LEFT JOIN marts.dim_users u USING (user_key) "
            "WHERE s.survey_date BETWEEN ? AND ?", [first, last]).df()
        daily = conn.execute("SELECT * FROM marts.fct_user_daily_usage WHERE event_date BETWEEN ? AND ?",
                             [first - dt.timedelta(days=config.window_days), last]).df()
        failing = days_failing_critical(conn, QUALITY_GATES)
    rows = training_rows(daily, surveys, config.window_days, first_full_day=first_full)
    spoiled = pd.Series(False, index=rows.index)
    as_of = pd.to_datetime(rows["as_of_date"]).dt.date
    for day in failing:  # answers whose feature window holds a day that failed a critical check
        spoiled |= (as_of >= day) & (as_of < day + dt.timedelta(days=config.window_days))
    if spoiled.any():
        context.log.warning(f"leaving {int(spoiled.sum())} answers out: their window holds a day that failed "
                            f"{sorted(str(d) for d in failing)}")
        rows = rows[~spoiled]
    rows = rows.assign(**{LABEL: rows[LABEL].astype(int)})
    if len(rows) < config.min_answers:
        yield model_kept(context, f"{len(rows)} usable survey answers (with {config.window_days} whole days of "
                                  f"usage before them); min_answers is {config.min_answers}: not training yet",
                         _registry().promoted_version())
        return

    training = HealthTrainingConfig(reminder_threshold=config.reminder_threshold)
    try:
        model, report = train_health_model(rows, training)
    except ValueError as exc:  # e.g. a part of the split without an at-risk answer: too few labels, not a bug
        yield model_kept(context, f"not training: {exc}", _registry().promoted_version())
        return
    registry = _registry()
    data_version = f"surveys:{rows['survey_date'].min()}..{rows['survey_date'].max()}:{len(rows)}answers"
    card = report.registry_metadata(data_version=data_version, intended_use=INTENDED_USE)
    card["window_days"] = config.window_days

    def write_artefacts(folder):
        model.save(folder)

    version = registry.register(write_artefacts, card)
    lower_is_better = config.promotion_metric != "auc"
    decision = registry.promote_if_not_worse(
        version, config.promotion_metric, higher_is_better=not lower_is_better,
        tolerance=config.promotion_tolerance, candidate_score=report.model[config.promotion_metric],
        score_fn=score_on(test_rows(rows, training), config.promotion_metric),
        must_beat=report.baselines["minutes_rule"][config.promotion_metric],
        must_beat_name="the daily-minutes rule on the same test answers",
    )
    predictions = report.test_predictions
    metadata = {
        "retrained": True,
        "version": version,
        "promoted": decision.promoted,
        "promotion_decision": decision.reason,
        "serving_version": registry.promoted_version(),
        "intended_use": INTENDED_USE,
        "rows": report.split["rows"],
        "positives": report.split["positives"],
        "test_metrics": dg.MetadataValue.md(md.metrics_table(
            {"model": report.model, **report.baselines}, columns=("auc", "logloss", "brier", "ece"))),
        "calibration": dg.MetadataValue.md(md.reliability_table(report.model["reliability"])),
        "segment_error_rates": dg.MetadataValue.md("\n\n".join(
            f"**{column}**\n\n{md.segment_error_table(rates)}" for column, rates in report.segments.items())),
        "feature_importance_gain": dg.MetadataValue.md(md.importance_table(report.feature_importance)),
        "auc": report.model["auc"],
        "rule_auc": report.baselines["minutes_rule"]["auc"],
        "auc_gain_over_rule_95ci": report.auc_gain_over_rule,
        "logloss": report.model["logloss"],
        "brier": report.model["brier"],
        "registry_path": dg.MetadataValue.path(str(registry.get(version).path)),
    }
    metadata.update(chart_metadata(context, lambda: _charts(report, predictions, registry.get(version).path / "charts")))
    yield dg.MaterializeResult(metadata=metadata)


@dg.asset_check(asset=health_model, description=f"Warns when the latest version's false-positive or false-negative "
                                                f"rate differs by more than {SEGMENT_GAP_WARN} between two device or "
                                                f"country segments (of at least 30 test answers, 10 in the "
                                                f"rate's denominator).")
def health_segment_error_gap() -> dg.AssetCheckResult:
    """A separate check (not a check spec on the asset) because the model asset is skipped when labels are few."""
    registry = _registry()
    version = registry.latest_version()
    if version is None:
        return dg.AssetCheckResult(passed=True, metadata={"version": None})
    segments = registry.get(version).metadata["segments"]
    gaps = {f"{column}.{rate}": gap for column, by_scorer in segments.items()
            for rate, gap in by_scorer["model"]["max_gap"].items() if gap is not None}
    too_wide = {name: gap for name, gap in gaps.items() if gap > SEGMENT_GAP_WARN}
    return dg.AssetCheckResult(passed=not too_wide, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"version": version, "gaps": gaps, "above_limit": too_wide})


def _charts(report, predictions, folder):
    from orchestration.lib import model_charts as charts

    return {
        "roc": charts.roc_chart(predictions["label"], {n: predictions[n] for n in ("model", "minutes_rule")},
                                folder / "roc.png"),
        "reliability": charts.reliability_chart(report.model["reliability"], folder / "reliability.png"),
        "feature_importance": charts.importance_chart(report.feature_importance, folder / "feature_importance.png"),
    }


SCORES_DDL = """
CREATE SCHEMA IF NOT EXISTS scores;
CREATE TABLE IF NOT EXISTS scores.user_health_scores (
    user_key VARCHAR NOT NULL, event_date DATE NOT NULL, model_version VARCHAR NOT NULL,
    p_at_risk DOUBLE NOT NULL, offer_reminder BOOLEAN NOT NULL,
    active_days INTEGER, mean_daily_minutes DOUBLE, late_night_share DOUBLE
);
"""


@daily_model_asset(
    deps=[USAGE_TABLE, health_model],
    group_name=GROUP,
    kinds={"lightgbm", "duckdb"},
    output_required=False,
    description="Per user and day, the promoted engagement-health model's probability of problematic use from the "
                "usage window ending that day, and whether to offer a usage reminder, in "
                "`scores.user_health_scores`. " + NOT_FOR_TARGETING,
)
def user_health_scores(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    from ml.health import HealthModel, window_features

    served = _registry().promoted()
    if served is None:
        context.log.warning("no promoted engagement-health model yet: nothing to score with")
        return
    model = HealthModel.load(served.path)
    window_days = int(served.metadata["window_days"])
    threshold = float(served.metadata["params"]["reminder_threshold"])
    first, last = event_days_to_rescore(context)
    with warehouse.connect() as conn:
        daily = conn.execute("SELECT * FROM marts.fct_user_daily_usage WHERE event_date BETWEEN ? AND ?",
                             [first - dt.timedelta(days=window_days - 1), last]).df()
        # every user active in the window that ends on a scored day gets a score for that day
        anchors = conn.execute(f"""
            SELECT DISTINCT d.user_key, CAST(s.day AS DATE) AS as_of_date
            FROM marts.fct_user_daily_usage d,
                 range(CAST(? AS DATE), CAST(? AS DATE) + INTERVAL 1 DAY, INTERVAL 1 DAY) s(day)
            WHERE d.event_date BETWEEN CAST(s.day AS DATE) - INTERVAL {window_days - 1} DAY AND CAST(s.day AS DATE)
            ORDER BY 2, 1""", [first, last]).df()
        rows = window_features(daily, anchors, window_days)
        p = model.predict(rows)
        scored = pd.DataFrame({
            "user_key": rows["user_key"], "event_date": rows["as_of_date"], "model_version": served.version,
            "p_at_risk": p, "offer_reminder": p >= threshold, "active_days": rows["active_days"],
            "mean_daily_minutes": rows["mean_daily_minutes"], "late_night_share": rows["late_night_share"],
        })
        conn.execute(SCORES_DDL)
        replace_event_days(conn, "scores.user_health_scores", scored, first, last)
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": len(scored),
        "model_version": served.version,
        "event_days": f"{first} .. {last}",
        "share_offered_reminder": float(scored["offer_reminder"].mean()) if len(scored) else None,
        "mean_p_at_risk": float(scored["p_at_risk"].mean()) if len(scored) else None,
        "intended_use": NOT_FOR_TARGETING,
    })
