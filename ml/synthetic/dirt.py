"""Dirty-data injection: the defects real log pipelines see, at realistic, configurable rates.

Every defect is planned here as row numbers and small decisions, so the manifest can count them exactly;
writer.py turns the plan into bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .events import EVENT_TYPES, TYPE_CODE, UNKNOWN_EVENT_TYPES, Events

REQUIRED_FIELDS = ("event_id", "event_ts", "event_type", "user_id")
# Only events nothing else refers to lose a field: no click loses its impression, no comment its label.
MISSING_FIELD_VICTIM_TYPES = tuple(TYPE_CODE[t] for t in ("view", "like", "share", "search"))
GARBAGE_LINES = (
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "\x00\x00\x00\x00",
    "{{{{",
    "null",
    "[1, 2, 3]",
    '"event"',
    "42",
    "event_id=abc;event_type=view",
    "{'event_id': 'x', 'event_type': 'view'}",
    "\ufffd\ufffd\ufffd",
)
DUPLICATE_MAX_DISTANCE = 2000  # a re-delivered line shows up at most this many lines after the original


@dataclass(frozen=True)
class DirtConfig:
    """Rates of each defect, as a share of a chunk's events."""

    duplicate_rate: float = 0.005  # an already-written line delivered again, verbatim
    late_rate: float = 0.01  # extra sessions from the evening of D-1 that arrive in D's files
    malformed_rate: float = 0.0005  # truncated JSON or garbage text (never in Parquet)
    missing_field_rate: float = 0.0005  # an event arrives without one required field
    unknown_type_rate: float = 0.0005  # events of types the contract does not know

    @classmethod
    def none(cls) -> "DirtConfig":
        return cls(0.0, 0.0, 0.0, 0.0, 0.0)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class DirtPlan:
    """Where the defects of one chunk go. Row numbers index the chunk's Events."""

    order: np.ndarray  # file order of rows, duplicates included (missing-field rows too: Parquet keeps them)
    duplicate_rows: np.ndarray  # rows written a second time
    missing_rows: np.ndarray  # rows that lose a required field
    missing_field: np.ndarray  # index into REQUIRED_FIELDS, aligned with missing_rows
    truncated_rows: np.ndarray  # rows whose JSON is also written cut off (a broken retry)
    truncate_fraction: np.ndarray  # where each truncated line is cut, as a share of its length
    garbage_lines: list[str]
    tail_order: np.ndarray  # shuffles the lines appended after the bulk write: missing, truncated, garbage


def unknown_type_events(rng: np.random.Generator, events: Events, rate: float, end_ms: int) -> Events:
    """Client noise (hover, scroll depth, heartbeats) riding along the sessions of real events."""
    on_time = np.flatnonzero(~events.late)
    n = rng.binomial(len(on_time), rate) if len(on_time) else 0
    anchor = on_time[rng.integers(0, len(on_time), size=n)]
    kind = rng.integers(0, len(UNKNOWN_EVENT_TYPES), size=n)
    ts = np.minimum(events.ts_ms[anchor] + rng.integers(50, 3000, size=n), end_ms - 1)
    return Events.build(
        n,
        ts_ms=ts,
        event_type=(TYPE_CODE[UNKNOWN_EVENT_TYPES[0]] + kind).astype(np.int8),
        user=events.user[anchor], session=events.session[anchor], device=events.device[anchor],
        network=events.network[anchor], geo=events.geo[anchor],
    )


def plan_dirt(rng: np.random.Generator, events: Events, config: DirtConfig, day_start_ms: int, *,
              allow_malformed: bool) -> DirtPlan:
    """Decide file order and defects for one chunk (events must already include late and unknown-type rows)."""
    n = len(events)
    valid = events.event_type < len(EVENT_TYPES)

    candidates = np.flatnonzero(np.isin(events.event_type, MISSING_FIELD_VICTIM_TYPES) & ~events.late)
    n_missing = min(rng.binomial(n, config.missing_field_rate) if n else 0, len(candidates))
    missing_rows = np.sort(rng.choice(candidates, size=n_missing, replace=False))
    missing_field = rng.integers(0, len(REQUIRED_FIELDS), size=n_missing)

    clean = valid.copy()
    clean[missing_rows] = False
    clean_rows = np.flatnonzero(clean)
    n_dup = rng.binomial(len(clean_rows), config.duplicate_rate) if len(clean_rows) else 0
    duplicate_rows = rng.choice(clean_rows, size=n_dup, replace=False)

    n_malformed = rng.binomial(n, config.malformed_rate) if (allow_malformed and len(clean_rows)) else 0
    truncated = rng.random(n_malformed) < 0.5
    truncated_rows = rng.choice(clean_rows, size=int(truncated.sum())) if truncated.any() else np.array([], int)
    garbage = rng.integers(0, len(GARBAGE_LINES), size=int((~truncated).sum()))

    return DirtPlan(
        order=_file_order(rng, events, duplicate_rows, day_start_ms),
        duplicate_rows=duplicate_rows,
        missing_rows=missing_rows,
        missing_field=missing_field,
        truncated_rows=truncated_rows,
        truncate_fraction=rng.uniform(0.2, 0.9, size=len(truncated_rows)),
        garbage_lines=[GARBAGE_LINES[g] for g in garbage],
        tail_order=rng.permutation(n_missing + n_malformed),
    )


def _file_order(rng: np.random.Generator, events: Events, duplicate_rows: np.ndarray, day_start_ms: int) -> np.ndarray:
    """Rows in arrival order: on-time events by timestamp, late ones whenever their upload got through
    during the day, and each re-delivered duplicate some lines after its original."""
    arrival = events.ts_ms.copy()
    late = np.flatnonzero(events.late)
    arrival[late] = day_start_ms + rng.integers(0, 86_400_000, size=len(late))
    order = np.argsort(arrival, kind="stable")
    position = np.empty(len(order), dtype=np.float64)
    position[order] = np.arange(len(order))
    dup_position = position[duplicate_rows] + rng.integers(1, DUPLICATE_MAX_DISTANCE, size=len(duplicate_rows)) + 0.5
    keys = np.concatenate([np.arange(len(order), dtype=np.float64), dup_position])
    rows = np.concatenate([order, duplicate_rows])
    return rows[np.argsort(keys, kind="stable")]
