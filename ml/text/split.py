"""Train / validation / test split with no leakage between the parts.

Comments of one user share wording (people repeat themselves) and comments of one day share topics and
templates, so a random row split over-states how well the model does on tomorrow's or a new user's comments:

- "time": whole days to one part each. Train on earlier days, stop early on the next, test on the latest:
  serving always scores the future.
- "user": whole users to one part each, assigned by a stable hash of the user id (the same user lands in the
  same part whatever the row order or the other users).
- "random": a seeded split stratified by label, only for data with neither a time nor a user column (e.g. a
  CSV of text,label); the report says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import TextSplitConfig

DEFAULT_TIME_PERIODS = 1
DEFAULT_FRACTION = 0.15


@dataclass
class TextSplit:
    mode: str
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    detail: dict  # days per part (time), users per part (user), nothing else (random)

    def describe(self) -> dict:
        return {"mode": self.mode, **self.detail,
                "rows": {"train": int(len(self.train)), "validation": int(len(self.validation)),
                         "test": int(len(self.test))}}


def day_labels(values: pd.Series) -> np.ndarray:
    """Calendar day (YYYY-MM-DD) of each value: dates, timestamps and strings that parse as them."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values, utc=True, format="mixed")
        except (ValueError, TypeError) as error:
            raise ValueError(f"time column {values.name!r} does not parse as dates: {error}") from None
    return values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def split_by_time(time_values: pd.Series, config: TextSplitConfig) -> TextSplit:
    if time_values.isna().any():
        raise ValueError(f"the time column {time_values.name!r} has {int(time_values.isna().sum())} missing values")
    days = day_labels(time_values)
    ordered = np.unique(days)
    n = len(ordered)
    n_test = _count(config.test, n, DEFAULT_TIME_PERIODS, "test")
    n_validation = _count(config.validation, n, DEFAULT_TIME_PERIODS, "validation")
    n_train = n - n_test - n_validation
    if n_train < 1:
        raise ValueError(f"too few days to split by time: {n} distinct day(s), but {n_validation} validation + "
                         f"{n_test} test + at least 1 training day are needed (use split mode 'user' or more days)")
    parts = {"train": ordered[:n_train], "validation": ordered[n_train:n - n_test], "test": ordered[n - n_test:]}
    return TextSplit("time", *(np.flatnonzero(np.isin(days, parts[p])) for p in ("train", "validation", "test")),
                     detail={f"{p}_days": [str(d) for d in parts[p]] for p in parts})


def user_bucket(user, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) per user (md5 of seed and id; not Python's salted hash)."""
    digest = hashlib.md5(f"{seed}:{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def split_by_user(users: pd.Series, config: TextSplitConfig, seed: int) -> TextSplit:
    if users.isna().any():
        raise ValueError(f"the user column {users.name!r} has {int(users.isna().sum())} missing values")
    keys = users.astype(str).to_numpy(dtype=object)
    distinct = np.unique(keys)
    ordered = sorted(distinct, key=lambda u: (user_bucket(u, seed), u))
    n = len(ordered)
    n_test = _count(config.test, n, DEFAULT_FRACTION, "test")
    n_validation = _count(config.validation, n, DEFAULT_FRACTION, "validation")
    if n - n_test - n_validation < 1:
        raise ValueError(f"too few users to split by user: {n} distinct user(s), {n_validation} validation + "
                         f"{n_test} test + at least 1 training user are needed")
    test_users, validation_users = ordered[:n_test], ordered[n_test:n_test + n_validation]
    part = np.where(np.isin(keys, test_users), 2, np.where(np.isin(keys, validation_users), 1, 0))
    return TextSplit("user", *(np.flatnonzero(part == p) for p in range(3)),
                     detail={"users": {"train": n - n_test - n_validation, "validation": n_validation,
                                       "test": n_test}})


def split_random(labels: np.ndarray, config: TextSplitConfig, seed: int) -> TextSplit:
    """Seeded, stratified by label: every class keeps its share in each part."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    n_test = _count(config.test, n, DEFAULT_FRACTION, "test")
    n_validation = _count(config.validation, n, DEFAULT_FRACTION, "validation")
    if n - n_test - n_validation < 1:
        raise ValueError(f"too few rows to split: {n}")
    # Interleave the classes (each shuffled) so any prefix of `order` is close to stratified.
    keys = np.empty(n)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        keys[rows] = (rng.permutation(len(rows)) + rng.random()) / len(rows)
    order = np.lexsort((rng.random(n), keys))
    test, validation = np.sort(order[:n_test]), np.sort(order[n_test:n_test + n_validation])
    train = np.sort(order[n_test + n_validation:])
    return TextSplit("random", train, validation, test, detail={})


def split_rows(labels: np.ndarray, time_values: pd.Series | None, users: pd.Series | None,
               config: TextSplitConfig, seed: int) -> TextSplit:
    mode = config.mode
    if mode == "auto":
        mode = "time" if time_values is not None else "user" if users is not None else "random"
    if mode == "time":
        if time_values is None:
            raise ValueError("split mode 'time' needs a time column (event_date, event_ts, date, ...)")
        return split_by_time(time_values, config)
    if mode == "user":
        if users is None:
            raise ValueError("split mode 'user' needs a user column (user_key, user_id, ...)")
        return split_by_user(users, config, seed)
    return split_random(labels, config, seed)


def _count(value: int | float | None, total: int, default: int | float, part: str) -> int:
    value = default if value is None else value
    if isinstance(value, float):
        if not 0 < value < 1:
            raise ValueError(f"{part} as a float is a fraction and must be in (0, 1), not {value}")
        return max(1, int(round(value * total)))
    if int(value) < 1:
        raise ValueError(f"{part} needs at least 1, not {value}")
    return int(value)
