"""Turning a table of comments into clean (text, label) rows, and the rules for bad text.

A comment table (marts.fct_comments, a CSV export) mixes annotated and unannotated rows and may hold text that
cannot be scored. The rules, the same for training and scoring where they can be:

- label NULL: the row is not annotated and takes no part in training or evaluation (it is not an error).
- text NULL / NaN / empty / whitespace only: dropped from training (counted in the report); at scoring time
  such rows get NaN probabilities (score_in_chunks) or raise (predict_proba, which takes strings only).
- text that is neither a string nor NULL (a number, a list): ValueError naming the rows, since it usually means
  the wrong column was picked.
- very long text: cut to max_length * CHARS_PER_TOKEN characters, then to max_length tokens (head truncation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CHARS_PER_TOKEN = 16  # generous: WordPiece tokens average ~4 characters; longer words become [UNK] anyway

COLUMN_CANDIDATES = {
    "text": ("comment_text", "text", "body", "content"),
    "label": ("label", "annotated_label", "sentiment", "class"),
    "time": ("event_date", "event_ts", "date", "created_at", "timestamp"),
    "user": ("user_key", "user_id", "author_id", "user"),
    "id": ("comment_id", "event_id", "id"),
    "truth": ("true_sentiment", "true_label"),
}


def find_column(frame: pd.DataFrame, role: str, requested: str | None, required: bool = False) -> str | None:
    """The column playing `role`: `requested` when given (must exist), the first candidate name present for
    "auto", None when requested is None (the role is switched off)."""
    if requested is None:
        return None
    if requested != "auto":
        if requested not in frame.columns:
            raise ValueError(f"{role} column {requested!r} not in the data (columns: {list(frame.columns)})")
        return requested
    for name in COLUMN_CANDIDATES[role]:
        if name in frame.columns:
            return name
    if required:
        raise ValueError(f"no {role} column: expected one of {COLUMN_CANDIDATES[role]} (columns: "
                         f"{list(frame.columns)}); name it explicitly")
    return None


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT


def text_problems(values: Iterable) -> tuple[np.ndarray, list[int]]:
    """(mask of usable texts: non-empty strings, positions of values that are neither strings nor missing)."""
    usable, wrong_type = [], []
    for i, value in enumerate(values):
        if isinstance(value, str):
            usable.append(bool(value.strip()))
        else:
            usable.append(False)
            if not is_missing(value):
                wrong_type.append(i)
    return np.asarray(usable, dtype=bool), wrong_type


def check_texts(texts: Sequence) -> list[str]:
    """Texts for predict_proba: every item must be a string (empty strings are allowed and scored as empty)."""
    if isinstance(texts, str):
        raise TypeError("pass a list of texts, not a single string")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"{len(bad)} text(s) are not strings, e.g. position {bad[0]}: {texts[bad[0]]!r} "
                         "(drop or fill missing texts first, or use score_in_chunks, which gives them NaN)")
    return texts


def clip_text(text: str, max_length: int) -> str:
    """Cut pathological inputs before tokenization; the tokenizer then truncates to max_length tokens."""
    limit = max_length * CHARS_PER_TOKEN
    return text if len(text) <= limit else text[:limit]


@dataclass
class LabelledRows:
    """The annotated, usable rows of a table, with the columns that drive the split and the evaluation."""

    texts: list[str]
    labels: np.ndarray  # label names as strings
    time: pd.Series | None
    users: pd.Series | None
    ids: pd.Series | None
    truth: pd.Series | None
    columns: dict  # role -> column name used
    counts: dict  # rows in, unannotated, dropped for bad text


def labelled_rows(frame: pd.DataFrame, text_column: str = "auto", label_column: str = "auto",
                  time_column: str | None = "auto", user_column: str | None = "auto",
                  id_column: str | None = "auto", truth_column: str | None = "auto") -> LabelledRows:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, not {type(frame).__name__}")
    columns = {
        "text": find_column(frame, "text", text_column, required=True),
        "label": find_column(frame, "label", label_column, required=True),
        "time": find_column(frame, "time", time_column),
        "user": find_column(frame, "user", user_column),
        "id": find_column(frame, "id", id_column),
        "truth": find_column(frame, "truth", truth_column),
    }
    if columns["truth"] == columns["label"]:
        columns["truth"] = None
    annotated = frame[columns["label"]].map(lambda v: not is_missing(v)).to_numpy(dtype=bool)
    if not annotated.any():
        raise ValueError(f"no annotated rows: every value of the label column {columns['label']!r} is NULL "
                         f"({len(frame)} rows); annotate some comments first")
    rows = frame[annotated]
    usable, wrong_type = text_problems(rows[columns["text"]].tolist())
    if wrong_type:
        example = rows[columns["text"]].iloc[wrong_type[0]]
        raise ValueError(f"the text column {columns['text']!r} holds {len(wrong_type)} non-string value(s), e.g. "
                         f"{example!r} ({type(example).__name__}); is it the right column?")
    rows = rows[usable].reset_index(drop=True)
    if rows.empty:
        raise ValueError("no annotated row has a usable text (all are empty or NULL)")
    counts = {"input_rows": int(len(frame)), "unannotated": int((~annotated).sum()),
              "dropped_empty_text": int((~usable).sum()), "labelled_rows": int(len(rows))}

    def optional(role):
        return rows[columns[role]].reset_index(drop=True) if columns[role] else None

    return LabelledRows(
        texts=rows[columns["text"]].tolist(),
        labels=rows[columns["label"]].map(str).to_numpy(dtype=object),
        time=optional("time"), users=optional("user"), ids=optional("id"),
        truth=optional("truth").map(lambda v: None if is_missing(v) else str(v)) if columns["truth"] else None,
        columns=columns, counts=counts,
    )
