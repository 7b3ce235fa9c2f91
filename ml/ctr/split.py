"""Train / validation / test split along time: train on earlier days, stop early on the next, test on the latest.

A random row split would let the model see tomorrow's clicks of an ad while being tested on today's, and would
grade it on a mix of days it partly trained on; serving is always "fit on the past, score the future", so the
evaluation is too. Whole days go to one part only.

For a table without a time column (e.g. a Criteo export, which is in time order but carries no timestamp) the
rows are split by their order in the file: the first rows train, the next validate, the last test. That keeps
the "past -> future" direction as long as the file is in time order; it is never a random shuffle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

DEFAULT_DAYS = 1  # validation / test days when splitting by time
DEFAULT_ROW_FRACTION = 0.1  # validation / test share of rows when splitting by row order


@dataclass(frozen=True)
class SplitConfig:
    """How much goes to each part. An int counts periods (days; rows when splitting by row order), a float in
    (0, 1) is a fraction of them. None: 1 day each by time, 10% of rows each by row order; train = everything
    before validation (or only the latest `train` periods of it, to cap the training window)."""

    validation: int | float | None = None
    test: int | float | None = None
    train: int | float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DataSplit:
    """Row positions of each part, and which periods (days, or row ranges) they cover."""

    mode: str  # "time" or "row_order"
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    train_periods: list[str]
    validation_periods: list[str]
    test_periods: list[str]

    def describe(self) -> dict:
        return {
            "mode": self.mode,
            "train_periods": self.train_periods,
            "validation_periods": self.validation_periods,
            "test_periods": self.test_periods,
            "rows": {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)},
        }


def period_values(values: pd.Series) -> np.ndarray:
    """The split period of each row, sortable: its calendar day (datetime64[D]) for dates / timestamps and for
    strings that parse as them, the value itself for anything else (e.g. an integer day number)."""
    if not pd.api.types.is_datetime64_any_dtype(values) and not pd.api.types.is_numeric_dtype(values):
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError):
            return values.astype(str).to_numpy()  # not dates: each distinct value is a period
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy().astype("datetime64[D]")
    return values.to_numpy()


def period_label(period) -> str:
    """'2026-03-01' for a day, str(value) otherwise: how periods appear in reports."""
    return str(period)


def split_by_time(time_values: pd.Series, config: SplitConfig = SplitConfig()) -> DataSplit:
    """Whole periods to one part each: the latest test periods, the validation periods just before them, and
    training periods before those."""
    if time_values.isna().any():
        raise ValueError(f"the time column {time_values.name!r} has {int(time_values.isna().sum())} missing values")
    periods = period_values(time_values)
    ordered = np.unique(periods)
    n = len(ordered)
    n_test = _count(config.test, n, DEFAULT_DAYS, "test")
    n_validation = _count(config.validation, n, DEFAULT_DAYS, "validation")
    n_available = n - n_test - n_validation
    if n_available < 1:
        raise ValueError(f"too few days to split: {n} distinct day(s) in {time_values.name!r}, but "
                         f"{n_validation} validation + {n_test} test + at least 1 training day are needed")
    n_train = n_available if config.train is None else min(_count(config.train, n, n_available, "train"),
                                                           n_available)
    test_periods = ordered[n - n_test:]
    validation_periods = ordered[n_available:n - n_test]
    train_periods = ordered[n_available - n_train:n_available]
    return DataSplit(
        mode="time",
        train=np.flatnonzero(np.isin(periods, train_periods)),
        validation=np.flatnonzero(np.isin(periods, validation_periods)),
        test=np.flatnonzero(np.isin(periods, test_periods)),
        train_periods=[period_label(p) for p in train_periods],
        validation_periods=[period_label(p) for p in validation_periods],
        test_periods=[period_label(p) for p in test_periods],
    )


def split_by_row_order(n_rows: int, config: SplitConfig = SplitConfig()) -> DataSplit:
    """First rows train, next rows validate, last rows test (for tables without a time column)."""
    n_test = _count(config.test, n_rows, DEFAULT_ROW_FRACTION, "test")
    n_validation = _count(config.validation, n_rows, DEFAULT_ROW_FRACTION, "validation")
    n_available = n_rows - n_test - n_validation
    if n_available < 1:
        raise ValueError(f"too few rows to split: {n_rows} rows, but {n_validation} validation + {n_test} test "
                         "+ at least 1 training row are needed")
    n_train = n_available if config.train is None else min(_count(config.train, n_rows, n_available, "train"),
                                                           n_available)
    bounds = [n_available - n_train, n_available, n_rows - n_test, n_rows]
    return DataSplit(
        mode="row_order",
        train=np.arange(bounds[0], bounds[1]),
        validation=np.arange(bounds[1], bounds[2]),
        test=np.arange(bounds[2], bounds[3]),
        train_periods=[f"rows {bounds[0]}..{bounds[1] - 1}"],
        validation_periods=[f"rows {bounds[1]}..{bounds[2] - 1}"],
        test_periods=[f"rows {bounds[2]}..{bounds[3] - 1}"],
    )


def split_table(df: pd.DataFrame, time_column: str | None, config: SplitConfig = SplitConfig()) -> DataSplit:
    """By time when the table has a time column, else by row order."""
    if time_column is None:
        return split_by_row_order(len(df), config)
    return split_by_time(df[time_column], config)


def rows_in_periods(df: pd.DataFrame, time_column: str, periods: list[str]) -> pd.DataFrame:
    """The rows of df whose period (see period_values) is one of `periods`, e.g. a report's test days."""
    values = period_values(df[time_column])
    wanted = {str(p) for p in periods}
    keep = {v for v in np.unique(values) if period_label(v) in wanted}
    return df[np.isin(values, list(keep))]


def _count(value: int | float | None, total: int, default: int | float, part: str) -> int:
    """Resolve an int count or a (0, 1) fraction of `total` into a count of at least 1."""
    value = default if value is None else value
    if isinstance(value, float):
        if not 0 < value < 1:
            raise ValueError(f"{part} as a float is a fraction and must be in (0, 1), not {value}")
        return max(1, int(round(value * total)))
    if int(value) < 1:
        raise ValueError(f"{part} needs at least 1 period, not {value}")
    return int(value)
