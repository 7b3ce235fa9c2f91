"""Logged bandit feedback: one row per decision the serving policy made, checked before any estimator sees it.

A row holds the context the policy saw (any columns), the action it chose, the reward that followed (a click),
the propensity (the probability with which the policy chose that action) and, optionally, the candidate actions
it chose from. Without a candidates column every row's candidates are all actions seen in the table (the
setting of public logged datasets with a fixed action set, e.g. the Open Bandit Dataset).

Every estimator divides by the propensity, so a missing, zero or out-of-range propensity is an error that names
the offending rows, never a silently dropped row: a wrong propensity biases every estimate made from the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# Candidate lists in a text file: a JSON array (`["a1","a2"]`) or ids joined by this separator (`a1|a2`).
CANDIDATE_SEPARATOR = "|"


class FeedbackError(ValueError):
    """The logged-feedback table cannot be used for off-policy evaluation as it is."""


@dataclass(frozen=True)
class FeedbackColumns:
    """Which columns of a logged-feedback table play which role."""

    context: tuple[str, ...]
    action: str = "action"
    reward: str = "reward"
    propensity: str = "propensity"
    candidates: str | None = "candidates"  # None (or absent from the table): every action seen is a candidate
    position: str | None = None  # the slot/position the action was shown in; treated as context

    @property
    def context_with_position(self) -> tuple[str, ...]:
        if self.position and self.position not in self.context:
            return (*self.context, self.position)
        return self.context


@dataclass
class LoggedFeedback:
    """Validated logged feedback as arrays: row i chose `candidates[i, logged_index[i]]` with `propensity[i]`."""

    context: pd.DataFrame  # one column per context feature (position included), all as strings
    candidates: np.ndarray  # (n, k) action ids (str)
    logged_index: np.ndarray  # (n,) position of the chosen action in its row's candidates
    reward: np.ndarray  # (n,) float
    propensity: np.ndarray  # (n,) float in (0, 1]
    action_features: dict[str, dict[str, str]] = field(default_factory=dict)  # action -> {feature: value}

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def actions(self) -> np.ndarray:
        return self.candidates[np.arange(len(self)), self.logged_index]

    @property
    def n_candidates(self) -> int:
        return self.candidates.shape[1]

    def take(self, rows: np.ndarray) -> "LoggedFeedback":
        return LoggedFeedback(self.context.iloc[rows].reset_index(drop=True), self.candidates[rows],
                              self.logged_index[rows], self.reward[rows], self.propensity[rows],
                              self.action_features)


def from_frame(df: pd.DataFrame, columns: FeedbackColumns,
               action_features: dict[str, dict[str, str]] | None = None) -> LoggedFeedback:
    """Check a logged-feedback DataFrame and turn it into arrays; raises FeedbackError naming what is wrong."""
    needed = [*columns.context_with_position, columns.action, columns.reward, columns.propensity]
    absent = [c for c in needed if c not in df.columns]
    if absent:
        raise FeedbackError(f"logged feedback lacks column(s) {absent}; it has {list(df.columns)}")
    if df.empty:
        raise FeedbackError("logged feedback has no rows")
    _check_propensities(df[columns.propensity], df.index)
    reward = pd.to_numeric(df[columns.reward], errors="coerce")
    if reward.isna().any():
        raise FeedbackError(f"{int(reward.isna().sum())} row(s) have a missing or non-numeric reward "
                            f"(first rows: {_first(df.index[reward.isna()])})")
    actions = df[columns.action].astype(str).to_numpy()
    if columns.candidates and columns.candidates in df.columns:
        candidates = _candidate_matrix(df[columns.candidates])
    else:
        every = np.array(sorted(set(actions)), dtype=object)
        candidates = np.broadcast_to(every, (len(df), len(every)))
    hit = candidates == actions[:, None]
    not_offered = ~hit.any(axis=1)
    if not_offered.any():
        raise FeedbackError(f"{int(not_offered.sum())} row(s) chose an action that is not among their candidates "
                            f"(first rows: {_first(df.index[not_offered])})")
    context = df[list(columns.context_with_position)].astype(str).reset_index(drop=True)
    return LoggedFeedback(context=context, candidates=np.asarray(candidates, dtype=object),
                          logged_index=hit.argmax(axis=1), reward=reward.to_numpy(dtype=float),
                          propensity=df[columns.propensity].to_numpy(dtype=float),
                          action_features=action_features or {})


def read_table(path: Path | str) -> pd.DataFrame:
    """A logged-feedback table from .csv / .tsv / .parquet (text formats may be gzipped)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".tsv", ".txt")):
        return pd.read_csv(path, sep="," if name.endswith(".csv") else "\t")
    raise FeedbackError(f"{path}: unknown format (use .csv, .tsv or .parquet)")


def _check_propensities(values: pd.Series, index: pd.Index) -> None:
    numeric = pd.to_numeric(values, errors="coerce")
    problems = {
        "missing or non-numeric": numeric.isna(),
        "zero": numeric == 0,
        "outside (0, 1]": (numeric < 0) | (numeric > 1),
    }
    found = {what: mask for what, mask in problems.items() if mask.any()}
    if found:
        detail = "; ".join(f"{int(mask.sum())} {what} (first rows: {_first(index[mask.to_numpy()])})"
                           for what, mask in found.items())
        raise FeedbackError(f"propensity must be the logging policy's probability of the chosen action, in (0, 1]: "
                            f"{detail}")


def _candidate_matrix(values: pd.Series) -> np.ndarray:
    lists = [_parse_candidates(v) for v in values]
    sizes = {len(c) for c in lists}
    if 0 in sizes:
        raise FeedbackError("some rows have no candidates; drop the candidates column to use every action seen")
    if len(sizes) > 1:
        raise FeedbackError(f"every row needs the same number of candidates; found sizes {sorted(sizes)}")
    return np.array(lists, dtype=object)


def _parse_candidates(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else text.split(CANDIDATE_SEPARATOR)
        return [str(v).strip() for v in items if str(v).strip()]
    return [str(v) for v in value]


def _first(index, n: int = 5) -> list:
    return [i.item() if hasattr(i, "item") else i for i in list(index[:n])]
