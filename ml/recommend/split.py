"""Time split for recommendation: train on the days before the test day, test on that day's interactions."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class TimeSplit:
    train: pd.DataFrame
    test: pd.DataFrame
    test_day: pd.Timestamp

    def describe(self) -> dict:
        return {"train_days": [str(d.date()) for d in sorted(self.train["day"].unique())],
                "test_day": str(self.test_day.date()), "train_rows": len(self.train), "test_rows": len(self.test)}


def time_split(frame: pd.DataFrame, test_day=None) -> TimeSplit:
    """Everything strictly before `test_day` (default: the latest day) trains; `test_day` tests; later days are
    left out. Nothing from the test day or later reaches training."""
    if frame.empty:
        raise ValueError("no interactions")
    days = frame["day"]
    test_day = pd.Timestamp(test_day) if test_day is not None else days.max()
    train, test = frame[days < test_day], frame[days == test_day]
    if train.empty:
        raise ValueError(f"no interactions before the test day {test_day.date()}: a time split needs at least two days")
    if test.empty:
        raise ValueError(f"no interactions on the test day {test_day.date()}")
    return TimeSplit(train.reset_index(drop=True), test.reset_index(drop=True), test_day)
