"""What a text-classifier training run reports.

Metrics for the fine-tuned model and the TF-IDF baseline on the same validation and test rows, side by side:
accuracy, macro-F1 (every class counts the same, so a model cannot look good by ignoring the rarest class),
per-class precision / recall / F1 and the confusion matrix (rows: true label, columns: predicted label).

On generated data the human labels are noisy (~6% are wrong), so the report also measures agreement with the
true latent sentiment the comments were written from: a model can agree with the truth more often than the
annotations do, and that is the figure that says whether it learnt the wording or the noise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

MODEL = "model"
BASELINE = "tfidf_logreg"


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """JSON-ready metrics for class indices into `labels`."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise ValueError("no rows to evaluate")
    ids = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    present = support > 0  # macro-F1 over the classes present in the truth: an absent class has no F1
    return {
        "rows": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": float(f1[present].mean()),
        "per_class": {label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                              "support": int(support[i])} for i, label in enumerate(labels)},
        "confusion_matrix": {"labels": list(labels),
                             "counts": confusion_matrix(y_true, y_pred, labels=ids).tolist()},
    }


def agreement(predicted: Sequence[str], truth: Sequence[str | None]) -> dict | None:
    """Share of rows whose prediction equals the true label (rows without a truth value left out)."""
    pairs = [(p, t) for p, t in zip(predicted, truth) if t is not None]
    if not pairs:
        return None
    return {"rows": len(pairs), "accuracy": float(np.mean([p == t for p, t in pairs]))}


@dataclass
class TextEvaluationReport:
    labels: list[str]
    split: dict
    rows: dict  # input rows, unannotated, dropped, per part
    validation: dict  # {"model": metrics, "tfidf_logreg": metrics}
    test: dict
    training: dict  # epochs, history, best epoch, throughput, device
    config: dict
    columns: dict
    backbone: str
    truth_agreement: dict | None = None  # test rows: model / baseline / annotations vs the true label
    test_predictions: pd.DataFrame | None = field(default=None, repr=False)

    # ---- figures -----------------------------------------------------------------------------------------

    @property
    def model(self) -> dict:
        return self.test[MODEL]

    @property
    def baseline(self) -> dict | None:
        return self.test.get(BASELINE)

    def attach_truth(self, truth: pd.DataFrame, id_column: str = "auto", truth_column: str = "auto") -> dict:
        """Agreement with a ground-truth table joined on the id (e.g. the generator's comments.parquet:
        event_id, true_sentiment), for when the training table did not carry the truth."""
        from .data import find_column

        predictions = self.test_predictions
        if predictions is None or "id" not in predictions:
            raise ValueError("the test rows carry no id column: cannot join a truth table")
        id_name = find_column(truth, "id", id_column, required=True)
        truth_name = find_column(truth, "truth", truth_column, required=True)
        mapping = dict(zip(truth[id_name].astype(str), truth[truth_name]))
        values = [mapping.get(str(i)) for i in predictions["id"]]
        predictions["truth"] = [None if v is None or v != v else str(v) for v in values]
        self.truth_agreement = truth_agreement(predictions)
        return self.truth_agreement

    def summary_metrics(self) -> dict:
        """Headline test figures, flat (for the registry and Dagster metadata)."""
        summary = {"macro_f1": self.model["macro_f1"], "accuracy": self.model["accuracy"]}
        if self.baseline:
            summary["baseline_macro_f1"] = self.baseline["macro_f1"]
            summary["baseline_accuracy"] = self.baseline["accuracy"]
        if self.truth_agreement and self.truth_agreement.get(MODEL):
            summary["truth_agreement"] = self.truth_agreement[MODEL]["accuracy"]
        return summary

    def registry_metadata(self, data_version: str | None = None) -> dict:
        """What ModelRegistry.register wants to know about this run."""
        return {
            "metrics": self.summary_metrics(),
            "labels": self.labels,
            "backbone": self.backbone,
            "pooling": self.config.get("pooling"),
            "params": self.config,
            "split": self.split,
            "training_window": {part: self.split.get(f"{part}_days") for part in ("train", "validation", "test")},
            "rows": self.rows,
            "data_version": data_version,
        }

    def test_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of `frame` in this run's test part: to score another version on the same rows (e.g. the
        serving model in ModelRegistry.promote_if_not_worse). Test days for a time split; for a user or random
        split the test ids (the frame needs the id column)."""
        if self.split["mode"] == "time":
            from .split import day_labels

            days = day_labels(frame[self.columns["time"]])
            return frame[np.isin(days, self.split["test_days"])]
        id_column = self.columns.get("id")
        if id_column is None or self.test_predictions is None or id_column not in frame:
            raise ValueError("no id column: the test rows of a user/random split cannot be found again")
        return frame[frame[id_column].astype(str).isin(self.test_predictions["id"].astype(str))]

    # ---- output ------------------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("test_predictions")
        return data

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path

    def metrics_table(self) -> str:
        """Model and baseline side by side on validation and test, then per-class test F1 and agreement."""
        names = [MODEL] + [n for n in (BASELINE,) if n in self.test]
        lines = [f"{'':22}" + "".join(f"{n:>16}" for n in names)]
        for part, metrics in (("validation", self.validation), ("test", self.test)):
            for key in ("accuracy", "macro_f1"):
                lines.append(f"{part + ' ' + key:22}" + "".join(f"{metrics[n][key]:>16.4f}" for n in names))
        for label in self.labels:
            lines.append(f"{'test F1 ' + label:22}"
                         + "".join(f"{self.test[n]['per_class'][label]['f1']:>16.4f}" for n in names))
        if self.truth_agreement:
            row = [self.truth_agreement.get(n) for n in names]
            if any(row):
                lines.append(f"{'test vs true label':22}"
                             + "".join(f"{r['accuracy']:>16.4f}" if r else f"{'-':>16}" for r in row))
            annotations = self.truth_agreement.get("annotations")
            if annotations:
                lines.append(f"(annotations agree with the true label on {annotations['accuracy']:.4f} of "
                             f"{annotations['rows']} test rows)")
        split = self.split
        lines.append(f"split: {split['mode']}, rows train/validation/test = {split['rows']['train']}/"
                     f"{split['rows']['validation']}/{split['rows']['test']}"
                     + (f", test days {', '.join(split['test_days'])}" if split["mode"] == "time" else ""))
        confusion = self.model["confusion_matrix"]
        lines.append("test confusion matrix (rows: true, columns: predicted; " + ", ".join(self.labels) + ")")
        lines.extend("  " + f"{label:>12} " + " ".join(f"{c:>6}" for c in counts)
                     for label, counts in zip(self.labels, confusion["counts"]))
        return "\n".join(lines)


def majority_class_metrics(true_labels: Sequence[str], labels: Sequence[str]) -> dict:
    """Metrics of always predicting the most common true label: the floor a classifier has to beat to have
    learnt anything (its macro-F1 is the majority class's F1 over the number of classes present)."""
    true_labels = list(true_labels)
    if not true_labels:
        raise ValueError("no rows to evaluate")
    index = {label: i for i, label in enumerate(labels)}
    y_true = [index[label] for label in true_labels]
    majority = max(set(y_true), key=lambda i: (y_true.count(i), -i))
    return classification_metrics(y_true, [majority] * len(y_true), list(labels))


def truth_agreement(predictions: pd.DataFrame) -> dict | None:
    """Model, baseline and the annotations themselves against the true label, on the test rows."""
    if "truth" not in predictions or predictions["truth"].isna().all():
        return None
    truth = predictions["truth"].where(predictions["truth"].notna(), None).tolist()
    result = {"annotations": agreement(predictions["label"].tolist(), truth),
              MODEL: agreement(predictions[MODEL].tolist(), truth)}
    if BASELINE in predictions:
        result[BASELINE] = agreement(predictions[BASELINE].tolist(), truth)
    return result


def model_scorer(rows: pd.DataFrame, metric: str = "macro_f1", text_column: str = "auto",
                 label_column: str = "auto") -> Callable[[object], float]:
    """A score_fn for ModelRegistry.promote_if_not_worse: loads a registered text model (anything with a .path
    holding TextClassifier files, or a folder) and scores it on `rows` (annotated rows with text and label), so
    the candidate and the serving model are compared on the same test rows. metric: macro_f1 or accuracy."""
    from .classifier import TextClassifier
    from .data import labelled_rows

    if metric not in ("macro_f1", "accuracy"):
        raise ValueError(f"metric must be macro_f1 or accuracy, not {metric!r}")
    data = labelled_rows(rows, text_column, label_column, None, None, None, None)

    def score(registered) -> float:
        model = TextClassifier.load(getattr(registered, "path", registered))
        return model.evaluate(data.texts, data.labels)[metric]

    return score
