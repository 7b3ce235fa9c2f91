"""Human labels for a sample of comments, as they come out of a real labelling queue: partial and noisy.

Annotators differ in care; their error rates average about 6.5%, and a wrong label is one of the other
classes. The truth files record which labels are wrong, so the effect of label noise can be measured.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .comments import SENTIMENTS

ANNOTATION_SHARE = 0.25
ANNOTATOR_ERROR_RATES = (0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10)
CSV_HEADER = ("event_id", "label", "annotator_id", "annotated_at")
MS_PER_HOUR = 3_600_000


@dataclass
class Annotations:
    """Full-length columns aligned with a chunk's events; -1 / False where a row is not annotated."""

    label: np.ndarray  # index into SENTIMENTS
    annotator: np.ndarray
    noisy: np.ndarray
    annotated_ms: np.ndarray


def annotate(rng: np.random.Generator, sentiment: np.ndarray, ts_ms: np.ndarray) -> Annotations:
    """Label ~25% of the comments (rows with sentiment >= 0), hours to two days after they were written."""
    n = len(sentiment)
    label = np.full(n, -1, dtype=np.int8)
    annotator = np.full(n, -1, dtype=np.int8)
    noisy = np.zeros(n, dtype=bool)
    annotated_ms = np.full(n, -1, dtype=np.int64)

    rows = np.flatnonzero((sentiment >= 0) & (rng.random(n) < ANNOTATION_SHARE))
    who = rng.integers(0, len(ANNOTATOR_ERROR_RATES), size=len(rows))
    wrong = rng.random(len(rows)) < np.asarray(ANNOTATOR_ERROR_RATES)[who]
    shift = rng.integers(1, len(SENTIMENTS), size=len(rows))
    label[rows] = np.where(wrong, (sentiment[rows] + shift) % len(SENTIMENTS), sentiment[rows])
    annotator[rows] = who
    noisy[rows] = wrong
    annotated_ms[rows] = ts_ms[rows] + rng.integers(MS_PER_HOUR, 48 * MS_PER_HOUR, size=len(rows))
    return Annotations(label, annotator, noisy, annotated_ms)


class AnnotationCsv:
    """The day's annotation file, appended chunk by chunk."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self._file = open(path, "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(CSV_HEADER)

    def write(self, rows: list[tuple]) -> None:
        self._csv.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "AnnotationCsv":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
