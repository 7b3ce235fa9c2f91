"""Model evaluation charts as small PNG files (matplotlib, Agg backend: no display, safe in any worker process).

Each function takes plain arrays/dicts, writes one PNG and returns its path; ``markdown_images`` embeds PNGs as
base64 ``data:`` URIs, which the Dagster UI renders inline in Markdown metadata. Charts are ~5 inches wide at
80 dpi (400 px, a few dozen KB) so that embedding them keeps the event log small. No Dagster imports.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)
import numpy as np  # noqa: E402

WIDTH_IN = 5.0
DPI = 80


def _save(fig, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI)
    plt.close(fig)
    return path


def roc_chart(labels, scores: Mapping[str, Sequence[float]], path: Path | str) -> Path:
    """ROC curves of one or more scorers on the same labels (e.g. the model and its baselines), AUC in the legend."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(labels)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.8))
    for name, values in scores.items():
        fpr, tpr, _ = roc_curve(y, np.asarray(values))
        ax.plot(fpr, tpr, lw=2 if name == "model" else 1, label=f"{name} (AUC {roc_auc_score(y, values):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title="ROC curve (test)", xlim=(0, 1),
           ylim=(0, 1))
    ax.legend(loc="lower right", fontsize="small")
    return _save(fig, path)


def reliability_chart(reliability: Sequence[Mapping], path: Path | str) -> Path:
    """Calibration: observed vs mean predicted rate per score bin (rows of ml.metrics.reliability_table); the
    diagonal is perfect calibration, marker area follows the bin's row count."""
    predicted = np.array([r["mean_predicted"] for r in reliability], dtype=float)
    observed = np.array([r.get("observed_rate", r.get("observed")) for r in reliability], dtype=float)
    counts = np.array([r.get("count", r.get("rows", 1)) for r in reliability], dtype=float)
    top = float(max(predicted.max(initial=0), observed.max(initial=0))) * 1.1 or 1.0
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.8))
    ax.plot([0, top], [0, top], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", lw=1.5, label="model")
    if len(counts):
        ax.scatter(predicted, observed, s=20 + 200 * counts / counts.max(), alpha=0.3)
    ax.set(xlabel="mean predicted probability", ylabel="observed rate", title="Reliability (test)",
           xlim=(0, top), ylim=(0, top))
    ax.legend(loc="upper left", fontsize="small")
    return _save(fig, path)


def importance_chart(importance: Sequence[Mapping], path: Path | str, top: int = 15,
                     value_key: str = "gain") -> Path:
    """Horizontal bars of the ``top`` features by ``value_key`` (rows like {"feature": ..., "gain": ...})."""
    rows = sorted(importance, key=lambda r: -float(r.get(value_key, 0.0)))[:top][::-1]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.8 + 0.28 * max(len(rows), 1)))
    ax.barh([str(r["feature"]) for r in rows], [float(r.get(value_key, 0.0)) for r in rows], color="tab:blue")
    ax.set(xlabel=f"total {value_key}", title=f"Feature importance ({value_key})")
    ax.tick_params(axis="y", labelsize="small")
    return _save(fig, path)


def confusion_chart(counts: Sequence[Sequence[int]], labels: Sequence[str], path: Path | str) -> Path:
    """Confusion-matrix heatmap, rows: true label, columns: predicted; cells show the count and the row share."""
    matrix = np.asarray(counts, dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.85))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true label")
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels=list(labels), rotation=30, ha="right")
    ax.set_yticks(ticks, labels=list(labels))
    for i in ticks:
        for j in ticks:
            ax.text(j, i, f"{int(matrix[i, j])}\n{shares[i, j]:.0%}", ha="center", va="center", fontsize="small",
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    return _save(fig, path)


def per_class_f1_chart(f1_by_model: Mapping[str, Mapping[str, float]], labels: Sequence[str],
                       path: Path | str) -> Path:
    """Grouped bars: F1 per class, one bar per model (e.g. {"model": {...}, "tfidf_logreg": {...}})."""
    x = np.arange(len(labels))
    width = 0.8 / max(len(f1_by_model), 1)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, WIDTH_IN * 0.7))
    for k, (name, f1) in enumerate(f1_by_model.items()):
        values = [float(f1.get(label) or 0.0) for label in labels]
        bars = ax.bar(x + (k - (len(f1_by_model) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize="x-small")
    ax.set_xticks(x, labels=list(labels))
    ax.set(ylabel="F1", ylim=(0, 1.25), title="F1 per class (test)")
    ax.legend(loc="upper center", ncols=max(len(f1_by_model), 1), fontsize="small")
    return _save(fig, path)


def markdown_images(paths: Mapping[str, Path | str]) -> str:
    """Markdown embedding each PNG inline (``![name](data:image/png;base64,...)``), one per paragraph."""
    return "\n\n".join(f"![{name}](data:image/png;base64,{base64.b64encode(Path(p).read_bytes()).decode()})"
                       for name, p in paths.items())
