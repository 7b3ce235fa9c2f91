"""Markdown renderings of model evaluations for the Dagster UI (tables read better there than JSON)."""

from __future__ import annotations

import numpy as np


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def metrics_table(rows: dict[str, dict], columns=("auc", "logloss", "normalized_entropy", "ece")) -> str:
    """One row per model/baseline, one column per metric."""
    header = "| model | " + " | ".join(columns) + " |"
    lines = [header, "|---|" + "---|" * len(columns)]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(metrics.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def reliability_table(reliability: list[dict]) -> str:
    """Calibration: predicted vs observed click rate per score bin."""
    lines = ["| bin | rows | mean predicted | observed |", "|---|---|---|---|"]
    for i, row in enumerate(reliability):
        lines.append(f"| {i + 1} | {row.get('count', row.get('rows'))} | {_fmt(row.get('mean_predicted'))} | "
                     f"{_fmt(row.get('observed_rate', row.get('observed')))} |")
    return "\n".join(lines)


def roc_table(labels, scores, points: int = 11) -> str:
    """The ROC curve sampled at evenly spaced false-positive rates."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(np.asarray(labels), np.asarray(scores))
    grid = np.linspace(0, 1, points)
    sampled = np.interp(grid, fpr, tpr)
    lines = ["| false-positive rate | true-positive rate |", "|---|---|"]
    lines += [f"| {f:.1f} | {t:.3f} |" for f, t in zip(grid, sampled)]
    return "\n".join(lines)


def importance_table(importance: list[dict], top: int = 15) -> str:
    lines = ["| feature | gain |", "|---|---|"]
    for row in importance[:top]:
        lines.append(f"| {row.get('feature')} | {_fmt(float(row.get('gain', 0.0)), 1)} |")
    return "\n".join(lines)


def classification_table(parts: dict[str, dict[str, dict]], columns=("accuracy", "macro_f1")) -> str:
    """Classifier metrics: one row per (part, model), e.g. {"test": {"model": {...}, "tfidf_logreg": {...}}}."""
    lines = ["| part | model | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for part, models in parts.items():
        for name, metrics in models.items():
            lines.append(f"| {part} | {name} | " + " | ".join(_fmt(metrics.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def per_class_table(metrics: dict, labels: list[str]) -> str:
    lines = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label in labels:
        row = metrics["per_class"][label]
        lines.append(f"| {label} | {_fmt(row.get('precision'))} | {_fmt(row.get('recall'))} | "
                     f"{_fmt(row.get('f1'))} | {row.get('support')} |")
    return "\n".join(lines)


def confusion_table(counts: list[list[int]], labels: list[str]) -> str:
    """Rows: true label, columns: predicted label."""
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    lines += [f"| {label} | " + " | ".join(str(c) for c in row) + " |" for label, row in zip(labels, counts)]
    return "\n".join(lines)


def misclassified_table(predictions, predicted_column: str = "model", limit: int = 10, text_chars: int = 120) -> str:
    """A sample of test rows the model got wrong (text cut short, pipes escaped for the table)."""
    wrong = predictions[predictions["label"] != predictions[predicted_column]].head(limit)
    lines = ["| text | label | predicted |", "|---|---|---|"]
    for _, row in wrong.iterrows():
        text = str(row["text"])[:text_chars].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {text} | {row['label']} | {row[predicted_column]} |")
    return "\n".join(lines)


def segment_error_table(rates_by_scorer: dict[str, dict]) -> str:
    """False-positive / false-negative rates per segment value, one block per scorer (model, baseline rule), from
    ml.health.evaluate.segment_error_rates. Segments under the minimum size are marked: too few to compare."""
    lines = ["| scorer | segment | rows | positives | flagged | FPR | FNR |", "|---|---|---|---|---|---|---|"]
    for scorer, rates in rates_by_scorer.items():
        for row in rates["segments"]:
            name = row["segment"] if row["comparable"] else f"{row['segment']} (few rows)"
            lines.append(f"| {scorer} | {name} | {row['rows']} | {row['positives']} | {row['flagged']} | "
                         f"{_fmt(row['false_positive_rate'], 3)} | {_fmt(row['false_negative_rate'], 3)} |")
        gap = rates["max_gap"]
        lines.append(f"| {scorer} | **largest gap** | | | | {_fmt(gap['false_positive_rate'], 3)} | "
                     f"{_fmt(gap['false_negative_rate'], 3)} |")
    return "\n".join(lines)
