"""The label set: taken from the data (sentiment by default) or fixed in advance (topic, brand safety, ...).

Labels are strings (a CSV's 0/1/2 become "0"/"1"/"2") and the class index of each is its position in the sorted
set, so the same labels always get the same ids whatever order the rows come in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


class LabelSet:
    def __init__(self, labels: Sequence[str]):
        labels = [str(label) for label in labels]
        if len(set(labels)) != len(labels):
            raise ValueError(f"duplicate labels in {labels}")
        if len(labels) < 2:
            raise ValueError(f"a classifier needs at least 2 labels, got {labels}")
        self.labels = list(labels)
        self.index = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def from_data(cls, observed: Sequence[str], fixed: Sequence[str] | None = None) -> "LabelSet":
        """The fixed set when given (every observed label must belong to it), else the sorted observed labels.
        A single observed class is an error: there would be nothing to learn."""
        counts = Counter(str(label) for label in observed)
        if fixed is not None:
            fixed = [str(label) for label in fixed]
            unknown = sorted(set(counts) - set(fixed))
            if unknown:
                raise ValueError(f"labels not in the fixed label set {fixed}: {unknown} "
                                 f"({sum(counts[u] for u in unknown)} rows); fix the data or the label set")
            label_set = cls(fixed)
        else:
            label_set = None
        if len(counts) < 2:
            raise ValueError(f"the annotated rows hold a single class ({dict(counts)}): a classifier needs at "
                             "least two; annotate more comments")
        return label_set or cls(sorted(counts))

    def encode(self, labels: Sequence[str]) -> np.ndarray:
        try:
            return np.asarray([self.index[str(label)] for label in labels], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"unknown label {error.args[0]!r}; known: {self.labels}") from None

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.labels[int(i)] for i in ids]

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self):
        return iter(self.labels)
