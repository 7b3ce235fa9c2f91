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
