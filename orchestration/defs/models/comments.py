"""Comment classifier assets: fine-tune + register + promote (`comment_classifier`), daily scores
(`comment_sentiment`) and daily sentiment per item and campaign with a surge alert (`sentiment_trends`).

Thin wiring: the modelling is in ml.text, the registry in ml.registry, the surge rule in ml.text.trends. The
classifier is part of the daily job but only retrains when enough annotations arrived since the serving version
was trained (fine-tuning a transformer every day for a handful of new labels would be waste); like the CTR model
it sits downstream of the blocking checks on the marts, so a failed critical check stops it in that run.
"""


import datetime as dt
import json

import dagster as dg
import pandas as pd

from orchestration.defs.models.conventions import (chart_metadata, daily_model_asset, model_asset, model_kept,
                                                    replace_event_days)
from orchestration.defs.partitions import event_days_to_rescore
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib import model_report_markdown as md
from orchestration.lib.quality_ledger import days_failing_critical
from orchestration.settings import load_settings

COMMENTS_TABLE = dg.AssetKey(["marts", "fct_comments"])
REGISTRY_NAME = "comment_classifier"
GROUP = "comment_model"
GRAINS = {"item": "item_id", "campaign": "campaign_id"}
# Suites whose failed critical result on a day keeps that day out of training (lib/quality_ledger.py); fct_comments
# is checked whole in every run, so its failure already stops the classifier in that run.
QUALITY_GATES = ["raw_events"]


class CommentClassifierConfig(dg.Config):
    window_days: int = 56
    """Days of annotated comments used (train + validation + test), ending at the latest comment day."""
    min_labels: int = 300
    """Annotated comments the window must hold before a first model is trained."""
    min_new_labels: int = 200
    """Annotations that arrived since the serving version's training before a new version is trained."""
    backbone: str = ""
    """Local folder or hub id of the pretrained encoder; empty: ATTNFLOW_TEXT_BACKBONE, else the bundled
    all-MiniLM-L6-v2."""
    epochs: int = 3
    max_train_rows: int = 4000
    """Cap on training comments (a seeded sample) that bounds fine-tuning time on a CPU."""
    promotion_tolerance: float = 0.01
    """How much lower a new version's test macro-F1 may be than the serving one's and still be promoted."""


class SentimentTrendsConfig(dg.Config):
    alert_labels: list[str] = ["negative"]
    """Labels whose surge is alerted on (e.g. ["unsafe"] for a brand-safety label set)."""
    baseline_days: int = 7
    min_comments: int = 20
    min_lift: float = 0.15
    z_threshold: float = 3.0


def _registry():
    from ml.registry import ModelRegistry

    return ModelRegistry(load_settings().models_dir, REGISTRY_NAME)


def _with_truth(df: pd.DataFrame) -> pd.DataFrame:
    """Join the generator's true sentiment when the data is synthetic (evaluation only, never a feature)."""
    truth_dir = load_settings().truth_dir
    files = list(truth_dir.glob("dt=*/comments.parquet")) if truth_dir.is_dir() else []
    if not files:
        return df
    truth = pd.concat([pd.read_parquet(p, columns=["event_id", "true_sentiment"]) for p in files])
    return df.merge(truth.rename(columns={"event_id": "comment_id"}), on="comment_id", how="left")


def _new_labels_since(labelled: pd.DataFrame, serving) -> int:
    """Annotations in the window that arrived after the serving version's training data was read."""
    if serving is None:
        return len(labelled)
    through = serving.metadata.get("labelled_through")
    if not through:
        return len(labelled)
    return int((pd.to_datetime(labelled["annotated_at"], utc=True) > pd.Timestamp(through)).sum())


@model_asset(
    deps=[COMMENTS_TABLE],
    group_name=GROUP,
    kinds={"pytorch", "python"},
    output_required=False,
)
def comment_classifier(context: dg.AssetExecutionContext, config: CommentClassifierConfig,
                       warehouse: DuckDBWarehouse):
    """Transformer comment classifier (sentiment by default; the label set is whatever the annotations use),
    fine-tuned on the annotated comments of `marts.fct_comments` with a time split, compared with TF-IDF +
    logistic regression on the same rows, versioned in the model registry and promoted only when its test
    macro-F1 is not worse than the serving version's on the same rows and beats always predicting the most
    common label. Until enough labels exist, and while too few new ones arrived, nothing is trained
    (materialised with `retrained: false` and the reason, so the day's comments are still scored)."""
    from ml.text import TextSplitConfig, TextTrainingConfig, model_scorer, train_text_classifier
    from ml.text.evaluate import majority_class_metrics

    with warehouse.connect(read_only=True) as conn:
        last_day = conn.execute("SELECT max(event_date) FROM marts.fct_comments").fetchone()[0]
        if last_day is None:
            yield model_kept(context, "marts.fct_comments is empty: nothing to train on yet",
                             _registry().promoted_version())
            return
        first_day = last_day - dt.timedelta(days=config.window_days - 1)
        labelled = conn.execute("""
            SELECT comment_id, event_date, user_key, comment_text, label, annotated_at
            FROM marts.fct_comments WHERE label IS NOT NULL AND event_date BETWEEN ? AND ?
            ORDER BY comment_id""", [first_day, last_day]).df()
        failing = {day: why for day, why in days_failing_critical(conn, QUALITY_GATES).items()
                   if first_day <= day <= last_day}
    if failing:
        context.log.warning(f"leaving days that failed a blocking check out of training: {failing}")
        labelled = labelled[~pd.to_datetime(labelled["event_date"]).dt.date.isin(set(failing))]
    days = labelled["event_date"].nunique()
    registry = _registry()
    if len(labelled) < config.min_labels or days < 3:
        yield model_kept(context, f"{len(labelled)} annotated comments on {days} day(s) in {first_day} .. "
                                  f"{last_day}: training needs {config.min_labels} on at least 3 days (train, "
                                  "validation, test)", registry.promoted_version())
        return
    serving = registry.promoted()
    new_labels = _new_labels_since(labelled, serving)
    if serving is not None and new_labels < config.min_new_labels:
        yield model_kept(context, f"{new_labels} new annotations since {serving.version} was trained "
                                  f"(retraining at {config.min_new_labels}): keeping it", serving.version)
        return

    training = TextTrainingConfig(backbone=config.backbone or load_settings().text_backbone,
                                  epochs=config.epochs, max_train_rows=config.max_train_rows,
                                  split=TextSplitConfig(mode="time"))
    frame = _with_truth(labelled)
    model, report = train_text_classifier(frame, training)

    def write_artefacts(folder):
        model.save(folder)
        report.write(folder / "report.json")

    labelled_through = pd.to_datetime(labelled["annotated_at"], utc=True).max()
    metadata = report.registry_metadata(
        data_version=f"fct_comments:{first_day}..{last_day}:{len(labelled)}labels")
    metadata["labelled_through"] = labelled_through.isoformat() if pd.notna(labelled_through) else None
    version = registry.register(write_artefacts, metadata)
    test_rows = report.test_rows(frame)
    majority = majority_class_metrics(report.test_predictions["label"], report.labels)
    decision = registry.promote_if_not_worse(
        version, "macro_f1", higher_is_better=True, tolerance=config.promotion_tolerance,
        candidate_score=report.model["macro_f1"], score_fn=model_scorer(test_rows, "macro_f1"),
        must_beat=majority["macro_f1"], must_beat_name="always predicting the most common label",
    )
    context.log.info("\n" + report.metrics_table())
    parts = {part: {**getattr(report, part), "majority_class": majority} if part == "test"
             else getattr(report, part) for part in ("validation", "test")}
    result = {
        "version": version,
        "promoted": decision.promoted,
        "promotion_decision": decision.reason,
        "serving_version": registry.promoted_version(),
        "backbone": report.backbone,
        "labels": report.labels,
        "new_annotations": new_labels,
        "left_out_days": {str(day): f"failed {why}" for day, why in failing.items()},
        "training_window": {part: report.split.get(f"{part}_days") for part in ("train", "validation", "test")},
        "rows": report.split["rows"],
        "macro_f1": report.model["macro_f1"],
        "accuracy": report.model["accuracy"],
        "metrics": dg.MetadataValue.md(md.classification_table(parts)),
        "per_class": dg.MetadataValue.md(md.per_class_table(report.model, report.labels)),
        "confusion_matrix": dg.MetadataValue.md(md.confusion_table(report.model["confusion_matrix"]["counts"],
                                                                    report.labels)),
        "misclassified_sample": dg.MetadataValue.md(md.misclassified_table(report.test_predictions)),
        "device": report.training.get("device"),
        "train_samples_per_s": report.training.get("train_samples_per_s"),
        "registry_path": dg.MetadataValue.path(str(registry.get(version).path)),
    }
    if report.truth_agreement and report.truth_agreement.get("model"):
        result["agreement_with_true_sentiment"] = report.truth_agreement["model"]["accuracy"]
    result.update(chart_metadata(context, lambda: _charts(report, registry.get(version).path / "charts")))
    yield dg.MaterializeResult(metadata=result)


def _charts(report, folder):
    """Confusion-matrix heatmap and F1 per class (model next to the TF-IDF baseline) on the test rows, as PNGs."""
    from orchestration.lib import model_charts as charts

    f1 = {name: {label: metrics["per_class"][label]["f1"] for label in report.labels}
          for name, metrics in report.test.items() if "per_class" in metrics}
    return {
        "confusion_matrix": charts.confusion_chart(report.model["confusion_matrix"]["counts"], report.labels,
                                                   folder / "confusion_matrix.png"),
        "per_class_f1": charts.per_class_f1_chart(f1, report.labels, folder / "per_class_f1.png"),
    }


SENTIMENT_DDL = """
CREATE SCHEMA IF NOT EXISTS scores;
CREATE TABLE IF NOT EXISTS scores.comment_sentiment (
    comment_id VARCHAR NOT NULL, event_date DATE NOT NULL, item_id VARCHAR, campaign_id VARCHAR,
    model_version VARCHAR NOT NULL, predicted_label VARCHAR, confidence DOUBLE, probabilities JSON
);
"""


@daily_model_asset(
    deps=[COMMENTS_TABLE, comment_classifier],
    group_name=GROUP,
    kinds={"pytorch", "duckdb"},
    output_required=False,
)
def comment_sentiment(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
    """Every comment of the partition (and the day before, for late events) scored by the promoted comment
    classifier, in `scores.comment_sentiment`: the predicted label, its probability and all label probabilities.
    Comments are streamed in chunks, so memory does not grow with the day's volume. A comment with empty text
    keeps its row with a NULL label. Re-scoring a day replaces it. Skipped while no model is promoted."""
    from ml.text import TextClassifier, score_in_chunks

    served = _registry().promoted()
    if served is None:
        context.log.warning("no promoted comment classifier yet: nothing to score with")
        return
    classifier = TextClassifier.load(served.path, device="auto")
    first, last = event_days_to_rescore(context)
    keep = ["comment_id", "event_date", "item_id", "campaign_id"]
    with warehouse.connect() as conn:
        result = conn.execute(
            f"SELECT {', '.join(keep)}, comment_text FROM marts.fct_comments WHERE event_date BETWEEN ? AND ? "
            "ORDER BY comment_id", [first, last])
        frames = _chunks(result)
        scored = pd.concat(list(score_in_chunks(classifier, frames, keep_columns=keep, text_column="comment_text")),
                           ignore_index=True)
        probability_columns = classifier.probability_columns
        rows = scored[keep].assign(
            model_version=served.version,
            predicted_label=scored["predicted_label"],
            confidence=scored[probability_columns].max(axis=1),
            probabilities=[None if pd.isna(p[0]) else json.dumps(dict(zip(classifier.labels, map(float, p))))
                           for p in scored[probability_columns].to_numpy()],
        )
        conn.execute(SENTIMENT_DDL)
        replace_event_days(conn, "scores.comment_sentiment", rows, first, last)
    shares = rows["predicted_label"].value_counts(normalize=True).round(4).to_dict()
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "model_version": served.version,
        "event_days": f"{first} .. {last}",
        "unscored_empty_text": int(rows["predicted_label"].isna().sum()),
        "label_shares": shares,
    })


def _chunks(result, vectors_per_chunk: int = 2):
    """A DuckDB result as DataFrames of vectors_per_chunk x 2048 rows, until it is exhausted."""
    while not (chunk := result.fetch_df_chunk(vectors_per_chunk)).empty:
        yield chunk


TRENDS_DDL = """
CREATE TABLE IF NOT EXISTS scores.sentiment_trends (
    event_date DATE NOT NULL, grain VARCHAR NOT NULL, key VARCHAR NOT NULL, label VARCHAR NOT NULL,
    comments BIGINT NOT NULL, label_comments BIGINT NOT NULL, share DOUBLE, baseline_share DOUBLE, lift DOUBLE,
    z_score DOUBLE, is_surge BOOLEAN NOT NULL
);
"""


@daily_model_asset(
    deps=[comment_sentiment],
    group_name=GROUP,
    kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec("sentiment_surge", asset="sentiment_trends",
                                   description="Warns when an alert label's daily share for an item or campaign "
                                               "surges far above its trailing baseline with enough comments.")],
)
def sentiment_trends(context: dg.AssetExecutionContext, config: SentimentTrendsConfig, warehouse: DuckDBWarehouse):
    """Daily share of each predicted label per item and per campaign (comments on sponsored items carry their
    campaign), each against the key's trailing baseline, in `scores.sentiment_trends`; the `sentiment_surge`
    check lists the surges of the alert labels (negative by default)."""
    from ml.text.trends import SurgeRule, daily_label_counts, detect_surges

    rule = SurgeRule(baseline_days=config.baseline_days, min_comments=config.min_comments,
                     min_lift=config.min_lift, z_threshold=config.z_threshold)
    first, last = event_days_to_rescore(context)
    with warehouse.connect() as conn:
        scored = conn.execute(
            "SELECT event_date, item_id, campaign_id, predicted_label, model_version FROM scores.comment_sentiment "
            "WHERE event_date BETWEEN ? AND ?", [first - dt.timedelta(days=rule.baseline_days), last]).df()
        labels = _labels_of(scored)
        trends = detect_surges(daily_label_counts(scored, labels, GRAINS), rule)
        trends = trends[(trends["event_date"] >= first) & (trends["event_date"] <= last)]
        conn.execute(TRENDS_DDL)
        replace_event_days(conn, "scores.sentiment_trends", trends, first, last)
    surges = trends[trends["is_surge"] & trends["label"].isin(config.alert_labels)]
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": len(trends),
        "event_days": f"{first} .. {last}",
        "surges": len(surges),
        "rule": rule.to_dict(),
    })
    yield dg.AssetCheckResult(
        check_name="sentiment_surge",
        passed=surges.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(surges)} surge(s) of {', '.join(config.alert_labels)} in {first} .. {last}"
                     if len(surges) else f"no surge of {', '.join(config.alert_labels)} in {first} .. {last}"),
        metadata={
            "surges": dg.MetadataValue.md(_surge_table(surges)),
            "surging_keys": sorted(f"{g}:{k}" for g, k in zip(surges["grain"], surges["key"])),
        },
    )


def _labels_of(scored: pd.DataFrame) -> list[str]:
    """The serving models' label sets (from the registry), else the labels seen in the scores."""
    registry = _registry()
    labels: list[str] = []
    for version in sorted(scored["model_version"].dropna().unique()):
        for label in registry.get(version).metadata.get("labels", []):
            if label not in labels:
                labels.append(label)
    seen = sorted(scored["predicted_label"].dropna().unique())
    return labels + [label for label in seen if label not in labels]


def _surge_table(surges: pd.DataFrame) -> str:
    lines = ["| day | grain | key | label | comments | share | baseline | z |", "|---|---|---|---|---|---|---|---|"]
    for row in surges.sort_values("z_score", ascending=False).head(20).itertuples():
        lines.append(f"| {row.event_date} | {row.grain} | {row.key} | {row.label} | {row.comments} | "
                     f"{row.share:.3f} | {row.baseline_share:.3f} | {row.z_score:.1f} |")
    return "\n".join(lines)
