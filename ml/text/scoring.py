"""Batch scoring of inputs too large to hold at once: a generator over chunks with bounded memory.

`source` is an iterable of DataFrames (e.g. a CSV read with chunksize, Parquet record batches converted to
pandas, a DuckDB cursor's fetch_df_chunk) or of texts. Frames larger than `chunk_size` are cut, texts are
gathered into chunks of `chunk_size`, so memory holds one chunk's tokens and probabilities at a time,
whatever the total. Each yielded frame has the kept columns (e.g. the id), one probability column per label
(`p_<label>`) and `predicted_label`. Rows whose text is NULL, NaN, not a string or empty get NaN probabilities
and a NULL label rather than stopping a million-row job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import numpy as np
import pandas as pd

from .data import find_column

PREDICTED_COLUMN = "predicted_label"


def score_in_chunks(classifier, source: Iterable, *, chunk_size: int = 4096, batch_size: int = 64,
                    text_column: str = "auto", keep_columns: Sequence[str] | str | None = "auto"
                    ) -> Iterator[pd.DataFrame]:
    """Yield one scored DataFrame per chunk of at most `chunk_size` rows, in input order.

    keep_columns: columns of input frames copied into the output ("auto": the id column when there is one,
    e.g. comment_id). Without kept columns (and for an iterable of texts) the output carries `row`, the input
    position counted over the whole source.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if isinstance(source, str):
        raise TypeError("pass an iterable of texts or of DataFrames, not a single string")
    if isinstance(source, pd.DataFrame):  # one frame: still scored chunk by chunk
        source = [source]
    iterator = iter(source)
    position = 0
    for item in iterator:
        if isinstance(item, pd.DataFrame):
            text_name = find_column(item, "text", text_column, required=True)
            keep = _kept_columns(item, keep_columns)
            for start in range(0, len(item), chunk_size):
                part = item.iloc[start:start + chunk_size]
                out = part[keep].reset_index(drop=True) if keep else \
                    pd.DataFrame({"row": np.arange(position, position + len(part))})
                yield _score(classifier, part[text_name].tolist(), out, batch_size)
                position += len(part)
            continue
        pending_text = [item, *islice(iterator, chunk_size - 1)]
        rows = pd.DataFrame({"row": np.arange(position, position + len(pending_text))})
        yield _score(classifier, pending_text, rows, batch_size)
        position += len(pending_text)


def _kept_columns(frame: pd.DataFrame, keep_columns) -> list[str]:
    if keep_columns is None:
        return []
    if keep_columns == "auto":
        name = find_column(frame, "id", "auto")
        return [name] if name else []
    keep = [keep_columns] if isinstance(keep_columns, str) else list(keep_columns)
    missing = [c for c in keep if c not in frame.columns]
    if missing:
        raise ValueError(f"keep_columns not in the data: {missing}")
    return keep


def _score(classifier, texts: list, out: pd.DataFrame, batch_size: int) -> pd.DataFrame:
    usable = np.array([isinstance(t, str) and bool(t.strip()) for t in texts], dtype=bool)
    probabilities = np.full((len(texts), len(classifier.labels)), np.nan, dtype=np.float32)
    if usable.any():
        probabilities[usable] = classifier.predict_proba([t for t, ok in zip(texts, usable) if ok], batch_size)
    for j, column in enumerate(classifier.probability_columns):
        out[column] = probabilities[:, j]
    predicted = np.full(len(texts), None, dtype=object)
    if usable.any():
        predicted[usable] = classifier.label_set.decode(probabilities[usable].argmax(axis=1))
    out[PREDICTED_COLUMN] = predicted
    return out
