"""Which columns a CTR model reads, and how they become the numeric matrix LightGBM trains on.

A `FeatureSpec` names the label, the time column, the categorical and the numeric feature columns. attnflow's
training table has a fixed default (`FeatureSpec.attnflow()`); any other table (Criteo / Avazu exports, ad-hoc
CSVs) gets one from `FeatureSpec.infer`, which reads the dtypes.

Categoricals are integer-coded by a `CategoryMaps` fitted on the *training rows only*: a value seen fewer than
`min_count` times there, and any value first seen later (at validation, test or scoring time), maps to the one
shared code RARE_CODE = 0. So the model has learnt what "an ad we know little about" looks like, and a new ad
at serving time gets exactly that treatment instead of an arbitrary code. Missing values are a category of their
own (MISSING_KEY), so "no top topic yet" can carry signal when it is common enough.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

RARE_CODE = 0
MISSING_KEY = "__missing__"

# Columns that can never be features whatever the table: the logging policy's probability of showing the ad
# describes the serving decision, not the user, and is not known for a candidate that was never shown.
ALWAYS_EXCLUDED = ("propensity",)
LABEL_CANDIDATES = ("is_clicked", "label", "clicked", "click", "target", "y")
TIME_CANDIDATES = ("event_date", "date", "day", "event_ts", "timestamp")
ID_CANDIDATES = ("impression_id", "event_id", "id")

ATTNFLOW_CATEGORICAL = ("ad_id", "campaign_id", "ad_topic", "device", "network", "geo", "user_top_topic")
ATTNFLOW_NUMERIC = (
    "slot", "hour_of_day",
    "user_impressions_lookback", "user_clicks_lookback", "user_ctr_smoothed", "user_views_lookback",
    "user_engaged_ms_lookback", "user_sessions_lookback", "user_active_days_lookback", "user_share_on_ad_topic",
    "ad_impressions_lookback", "ad_clicks_lookback", "ad_ctr_smoothed", "campaign_ctr_smoothed",
)

_CRITEO_INTEGER = tuple(f"I{i}" for i in range(1, 14))
_CRITEO_CATEGORICAL = tuple(f"C{i}" for i in range(1, 27))
CRITEO_COLUMNS = ("label", *_CRITEO_INTEGER, *_CRITEO_CATEGORICAL)


@dataclass(frozen=True)
class FeatureSpec:
    """The columns of a CTR table, by role.

    time_column: rows are split by its day (None: split by row order, see split.py).
    id_column: carried through to predictions so they can be joined back (e.g. with ground truth).
    entity_column: the column whose smoothed historical CTR is the "per-ad" baseline (None: no such baseline).
    """

    label: str
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    time_column: str | None = None
    id_column: str | None = None
    entity_column: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "categorical", tuple(self.categorical))
        object.__setattr__(self, "numeric", tuple(self.numeric))
        features = self.features
        if not features:
            raise ValueError("a feature spec needs at least one categorical or numeric feature")
        duplicated = sorted({c for c in features if features.count(c) > 1})
        if duplicated:
            raise ValueError(f"columns listed twice in the feature spec: {duplicated}")
        roles = {"label": self.label, "time column": self.time_column, "id column": self.id_column}
        clashes = [f"{c} ({role})" for role, c in roles.items() if c is not None and c in features]
        if clashes:
            raise ValueError(f"columns used both as a feature and as {', '.join(clashes)}")

    @property
    def features(self) -> tuple[str, ...]:
        """Feature columns in matrix order: categoricals first, then numerics."""
        return self.categorical + self.numeric

    def missing_columns(self, df: pd.DataFrame, for_training: bool) -> list[str]:
        """Columns the spec needs that df lacks; training also needs the label, time, id and entity columns."""
        needed = list(self.features)
        if for_training:
            roles = (self.label, self.time_column, self.id_column, self.entity_column)
            needed += [c for c in roles if c is not None and c not in needed]
        return [c for c in needed if c not in df.columns]

    def require_columns(self, df: pd.DataFrame, for_training: bool) -> None:
        missing = self.missing_columns(df, for_training)
        if missing:
            raise ValueError(f"missing columns: {', '.join(missing)} (the feature spec needs them)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FeatureSpec":
        return cls(**data)

    @classmethod
    def attnflow(cls) -> "FeatureSpec":
        """attnflow's marts.fct_ctr_training. day_of_week is left out on purpose: with a training window shorter
        than a few weeks, the test day's weekday was never (or once) seen, so any split on it is noise."""
        return cls(label="is_clicked", categorical=ATTNFLOW_CATEGORICAL, numeric=ATTNFLOW_NUMERIC,
                   time_column="event_date", id_column="impression_id", entity_column="ad_id")

    @classmethod
    def criteo(cls, label: str = "label", time_column: str | None = None) -> "FeatureSpec":
        """The Criteo display-ads layout: integer counts I1..I13, hashed categoricals C1..C26, no time column."""
        return cls(label=label, categorical=_CRITEO_CATEGORICAL, numeric=_CRITEO_INTEGER, time_column=time_column)

    @classmethod
    def infer(
        cls,
        df: pd.DataFrame,
        label: str | None = None,
        time_column: str | None = "auto",
        categorical: list[str] | tuple[str, ...] | None = None,
        numeric: list[str] | tuple[str, ...] | None = None,
        id_column: str | None = "auto",
        entity_column: str | None = "auto",
        exclude: list[str] | tuple[str, ...] = (),
    ) -> "FeatureSpec":
        """A spec for any table; attnflow's default when df has all of its columns and no other roles are asked for.

        Otherwise: the label is `label` or the first of LABEL_CANDIDATES present; time_column="auto" picks the
        first of TIME_CANDIDATES present (None = no time column); columns named in `categorical` / `numeric`
        keep that role, and every other column is typed by dtype: strings, categories and booleans are
        categorical, numbers are numeric. Left out: the label, time and id columns, `exclude`, ALWAYS_EXCLUDED,
        other date/time columns, and string columns unique on every row (identifiers cannot generalise).
        """
        if df.empty and len(df.columns) == 0:
            raise ValueError("the table has no columns")
        default = cls.attnflow()
        asks_for_default_roles = (label in (None, default.label) and time_column in ("auto", default.time_column)
                                  and not (categorical or numeric or exclude))
        if asks_for_default_roles and all(c in df.columns for c in _attnflow_columns()):
            return default

        label = label or next((c for c in LABEL_CANDIDATES if c in df.columns), None)
        if label is None:
            raise ValueError(f"no label column given and none of {LABEL_CANDIDATES} is in the table")
        if label not in df.columns:
            raise ValueError(f"missing columns: {label} (the label)")
        if time_column == "auto":
            time_column = next((c for c in TIME_CANDIDATES if c in df.columns), None)
        if id_column == "auto":
            id_column = next((c for c in ID_CANDIDATES if c in df.columns), None)
        categorical, numeric = list(categorical or ()), list(numeric or ())
        named = [c for c in categorical + numeric + [time_column, id_column] if c is not None]
        missing = [c for c in named if c not in df.columns]
        if missing:
            raise ValueError(f"missing columns: {', '.join(missing)}")

        skip = {label, time_column, id_column, *exclude, *ALWAYS_EXCLUDED, *categorical, *numeric}
        for column in df.columns:
            if column in skip:
                continue
            values = df[column]
            if pd.api.types.is_bool_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype):
                categorical.append(column)
            elif pd.api.types.is_numeric_dtype(values):
                numeric.append(column)
            elif pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
                continue
            elif len(values) > 1 and values.nunique(dropna=False) == len(values):
                continue  # an identifier
            else:
                categorical.append(column)
        if entity_column == "auto":
            entity_column = next((c for c in ("ad_id", "creative_id", "campaign_id") if c in categorical), None)
        return cls(label=label, categorical=tuple(categorical), numeric=tuple(numeric), time_column=time_column,
                   id_column=id_column, entity_column=entity_column)


def _attnflow_columns() -> tuple[str, ...]:
    spec = FeatureSpec.attnflow()
    return (*spec.features, spec.label, spec.time_column)


def category_keys(values: pd.Series) -> pd.Series:
    """Values as the strings the category maps are keyed by: integral floats print as integers (3.0 -> "3", so
    a column read back from CSV as float still matches), missing values become MISSING_KEY."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_float_dtype(values):
        present = values.to_numpy()[~missing]
        if np.all(np.mod(present, 1) == 0):
            values = values.astype("Int64")
    keys = values.astype(str).to_numpy(dtype=object)
    keys[missing] = MISSING_KEY
    return pd.Series(keys, index=values.index, dtype=object)


@dataclass
class CategoryMaps:
    """Known values per categorical column; a value's code is its position + 1, everything else is RARE_CODE."""

    known_values: dict[str, list[str]]
    min_count: int
    training_counts: dict[str, dict[str, int]] = field(default_factory=dict)  # rows / rare rows per column

    @classmethod
    def fit(cls, df: pd.DataFrame, columns: tuple[str, ...] | list[str], min_count: int) -> "CategoryMaps":
        if min_count < 1:
            raise ValueError("min_count must be at least 1")
        known, counts = {}, {}
        for column in columns:
            value_counts = category_keys(df[column]).value_counts()
            frequent = value_counts[value_counts >= min_count]
            known[column] = sorted(frequent.index.tolist())
            counts[column] = {"distinct": int(len(value_counts)), "kept": int(len(frequent)),
                              "rare_rows": int(value_counts.sum() - frequent.sum())}
        return cls(known, min_count, counts)

    def encode(self, values: pd.Series, column: str) -> np.ndarray:
        """Integer codes for one column (int32); unknown and rare values give RARE_CODE."""
        codes = pd.Categorical(category_keys(values), categories=self.known_values[column]).codes
        return codes.astype(np.int32) + 1  # pandas gives -1 for values outside the categories

    def cardinality(self, column: str) -> int:
        """Number of codes including RARE_CODE."""
        return len(self.known_values[column]) + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CategoryMaps":
        return cls(**data)


@dataclass
class FeatureEncoder:
    """Turns table rows into the float32 matrix the model reads: categorical codes, then numerics (NaN kept,
    LightGBM learns where missing values go)."""

    spec: FeatureSpec
    category_maps: CategoryMaps

    @classmethod
    def fit(cls, train: pd.DataFrame, spec: FeatureSpec, min_category_count: int) -> "FeatureEncoder":
        return cls(spec, CategoryMaps.fit(train, spec.categorical, min_category_count))

    @property
    def feature_names(self) -> list[str]:
        return list(self.spec.features)

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.spec.categorical)))

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        self.spec.require_columns(df, for_training=False)
        matrix = np.empty((len(df), len(self.spec.features)), dtype=np.float32)
        for j, column in enumerate(self.spec.categorical):
            matrix[:, j] = self.category_maps.encode(df[column], column)
        offset = len(self.spec.categorical)
        for j, column in enumerate(self.spec.numeric):
            matrix[:, offset + j] = numeric_values(df[column], column)
        return matrix


def numeric_values(values: pd.Series, column: str) -> np.ndarray:
    """A numeric column as float32 with NaN for missing; text in a numeric column is a data error."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float32, na_value=np.nan)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        examples = values[bad].astype(str).unique()[:3].tolist()
        raise ValueError(f"numeric column {column!r} holds non-numeric values, e.g. {examples}")
    return converted.to_numpy(dtype=np.float32, na_value=np.nan)


def parse_column_list(text: str | None) -> list[str]:
    """'C1,C2, C3' -> ['C1', 'C2', 'C3'] (for the command line)."""
    return [c for c in re.split(r"[,\s]+", text or "") if c]
