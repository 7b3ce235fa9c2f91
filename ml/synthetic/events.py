"""Column-oriented batch of simulated events, with the hidden truth that travels alongside them.

Entities are kept as integer indices (user 17, ad 3, ...) until the batch is written; turning them into
contract strings happens once, vectorised, in DuckDB (see writer.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from .ads import N_CANDIDATES
from .world import COUNTRIES, DEVICES, NETWORKS, TOPICS

# Event types the contract allows, then types real clients also send that the contract does not know.
EVENT_TYPES = ("impression", "click", "view", "like", "share", "comment", "search", "purchase")
UNKNOWN_EVENT_TYPES = ("hover", "scroll_depth", "heartbeat")
ALL_EVENT_TYPES = EVENT_TYPES + UNKNOWN_EVENT_TYPES
TYPE_CODE = {name: code for code, name in enumerate(ALL_EVENT_TYPES)}

# Integer-coded columns and the names their codes stand for (written as strings).
CATEGORIES = {"event_type": ALL_EVENT_TYPES, "device": DEVICES, "network": NETWORKS, "geo": COUNTRIES,
              "topic": TOPICS}


@dataclass
class Events:
    """One row per event. Sentinels mean "does not apply": -1 for ids/topic/dwell, 0 for slot, NaN for floats.

    `request` is the row number (within the same batch) of the impression that served this ad request.
    """

    ts_ms: np.ndarray
    event_type: np.ndarray
    user: np.ndarray
    session: np.ndarray
    device: np.ndarray
    network: np.ndarray
    geo: np.ndarray
    item: np.ndarray
    ad: np.ndarray
    campaign: np.ndarray
    slot: np.ndarray
    request: np.ndarray
    dwell_ms: np.ndarray
    topic: np.ndarray
    propensity: np.ndarray
    amount: np.ndarray
    text: np.ndarray  # object array of str / None
    # (n, N_CANDIDATES) per impression: the ads the serving policy chose from and its probability of each
    candidates: np.ndarray
    candidate_probs: np.ndarray
    # hidden truth, never written to the landing folder
    click_prob: np.ndarray
    clicked: np.ndarray
    sentiment: np.ndarray
    late: np.ndarray
    candidate_click_probs: np.ndarray  # (n, N_CANDIDATES) true click probability of each candidate

    @classmethod
    def build(cls, n: int, **columns) -> "Events":
        """A batch of n rows; columns not given get their "does not apply" value."""
        defaults = {
            "item": (-1, np.int32), "ad": (-1, np.int32), "campaign": (-1, np.int32), "slot": (0, np.int8),
            "request": (-1, np.int64), "dwell_ms": (-1, np.int64), "topic": (-1, np.int8),
            "propensity": (np.nan, np.float64), "amount": (np.nan, np.float64), "text": (None, object),
            "click_prob": (np.nan, np.float64), "clicked": (False, bool), "sentiment": (-1, np.int8),
            "late": (False, bool),
        }
        per_candidate = {"candidates": (-1, np.int32), "candidate_probs": (np.nan, np.float64),
                         "candidate_click_probs": (np.nan, np.float64)}
        values = {}
        for f in fields(cls):
            if f.name in columns:
                values[f.name] = np.asarray(columns[f.name])
                if values[f.name].ndim == 0:
                    values[f.name] = np.full(n, values[f.name])
            elif f.name in per_candidate:  # one row per event, one column per candidate
                fill, dtype = per_candidate[f.name]
                values[f.name] = np.full((n, N_CANDIDATES), fill, dtype=dtype)
            else:
                fill, dtype = defaults[f.name]
                values[f.name] = np.full(n, fill, dtype=dtype)
        return cls(**values)

    def __len__(self) -> int:
        return len(self.ts_ms)

    @classmethod
    def concat(cls, batches: list["Events"], *, shift_requests: bool = True) -> "Events":
        """Stack batches. Each batch's request row numbers are shifted so they keep pointing at their
        impression; pass shift_requests=False when the numbers already refer to the stacked result."""
        offsets = np.cumsum([0] + [len(b) for b in batches[:-1]])
        columns = {}
        for f in fields(cls):
            parts = [getattr(b, f.name) for b in batches]
            if f.name == "request" and shift_requests:
                parts = [np.where(p >= 0, p + off, -1) for p, off in zip(parts, offsets)]
            columns[f.name] = np.concatenate(parts)
        return cls(**columns)

    def to_arrow(self) -> pa.Table:
        """Internal (not yet contract-shaped) table; `seq` is the row number that ids are derived from."""
        n = len(self)
        return pa.table({
            "seq": np.arange(n, dtype=np.int64),
            **{f.name: _arrow_column(getattr(self, f.name), CATEGORIES.get(f.name)) for f in fields(self)},
        })


def _arrow_column(values: np.ndarray, categories: tuple[str, ...] | None) -> pa.Array:
    if values.ndim == 2:  # per-candidate columns: a fixed-size list, null where the event is no impression
        missing = np.isnan(values[:, 0]) if values.dtype.kind == "f" else values[:, 0] < 0
        return pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), values.shape[1], mask=pa.array(missing))
    if categories is not None:  # dictionary-encoded: DuckDB reads the names, no string building here
        codes = pa.array(values.astype(np.int8), mask=values < 0)
        return pa.DictionaryArray.from_arrays(codes, pa.array(categories))
    if values.dtype == object:
        return pa.array(values, type=pa.string())
    if values.dtype.kind == "f":
        return pa.array(values, mask=np.isnan(values))
    return pa.array(values)
