"""What a suite validates: DataFrames read from DuckDB per partition day, and the suite parameters of that day.

Great Expectations' SQL data source on DuckDB returns empty results (rows are fetched after the connection has
closed), so every batch is a pandas DataFrame read here from a read-only connection, opened after the writer has
closed. Only the columns the suite uses are read.

``raw_events`` is validated on everything that *landed* for a day, not only on ``raw.events``: the loader moves
contract-breaking lines to ``raw.events_quarantine``, so ``raw.events`` alone would never show a burst of null
user ids or a flood of unknown event types. The ``raw_events_landed`` reader unions both tables, extracting the
quarantined lines' fields best-effort from ``raw_line`` (NULL when not parseable) and adding ``quarantine_reason``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from orchestration.lib.gx_suites import SuiteFile

_RAW_STRINGS = ("event_id", "event_type", "user_id", "session_hint", "item_id", "ad_id", "campaign_id",
                "request_id", "device", "network", "geo", "text")
_RAW_INTEGERS = ("slot", "dwell_ms")


def _raw_events_landed_sql() -> str:
    """raw.events UNION ALL raw.events_quarantine, one row per landed line, same columns on both sides."""
    def extracted(field: str) -> str:
        # try(): a line that is not JSON gives NULL instead of failing the query; '' counts as missing, as in
        # the loader.
        return f"nullif(trim(try(json_extract_string(raw_line, '$.{field}'))), '')"

    good = ", ".join(f'"{f}"' for f in (*_RAW_STRINGS, *_RAW_INTEGERS))
    bad = ", ".join([f'{extracted(f)} AS "{f}"' for f in _RAW_STRINGS]
                    + [f'try_cast({extracted(f)} AS BIGINT) AS "{f}"' for f in _RAW_INTEGERS])
    return f"""
        SELECT dt, source_file, line_no, event_ts, {good}, CAST(NULL AS VARCHAR) AS quarantine_reason
        FROM raw.events
        UNION ALL
        SELECT dt, source_file, line_no,
               timezone('UTC', try_cast({extracted('event_ts')} AS TIMESTAMPTZ)) AS event_ts,
               {bad}, reason AS quarantine_reason
        FROM raw.events_quarantine
    """


READERS: dict[str, Callable[[], str]] = {"raw_events_landed": _raw_events_landed_sql}


def source_sql(suite: SuiteFile) -> str:
    """The SQL a suite reads from (a table, a query, or a named reader)."""
    read = suite.binding.read
    if "table" in read:
        return f"SELECT * FROM {read['table']}"
    if "sql" in read:
        return read["sql"]
    if read["reader"] not in READERS:
        raise ValueError(f"suite {suite.name}: unknown reader {read['reader']!r}; known: {sorted(READERS)}")
    return READERS[read["reader"]]()


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def read_batch(conn: duckdb.DuckDBPyConnection, suite: SuiteFile, day: dt.date | None) -> pd.DataFrame:
    """The suite's columns for one partition day (or the whole table when ``day`` is None or not partitioned)."""
    conn.execute("SET TimeZone = 'UTC'")
    columns = ", ".join(_quote(c) for c in suite.columns())
    sql = f"SELECT {columns} FROM ({source_sql(suite)}) AS src"
    params: list[Any] = []
    if day is not None and suite.binding.partition_column:
        sql += f" WHERE {_quote(suite.binding.partition_column)} = ?"
        params.append(day)
    if suite.binding.row_id_columns:  # deterministic samples of offending rows
        sql += " ORDER BY " + ", ".join(_quote(c) for c in suite.binding.row_id_columns)
    return vectorisable(fetch_frame(conn, sql, params))


# Arrow types whose pandas conversion equals DuckDB's own .df() (after vectorisable), strings aside.
_ARROW_AS_DF = (pa.types.is_integer, pa.types.is_floating, pa.types.is_timestamp)


def fetch_frame(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    """The query's rows as a DataFrame whose text columns are Arrow-backed strings (``string[pyarrow]``).

    DuckDB's ``.df()`` turns every text value into a Python object: on a 10M-row day that is most of the batch's
    read time, and each of Great Expectations' row filters then copies those objects column by column. Arrow
    strings come out of DuckDB without a copy per value and are filtered in C++; the results are the same. Any
    other column type than those in ``_ARROW_AS_DF`` falls back to ``.df()`` for the whole batch."""
    table = conn.sql(sql, params=params).to_arrow_table()
    if not all(pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or any(t(f.type) for t in _ARROW_AS_DF)
               for f in table.schema):
        return conn.execute(sql, params).df()
    strings = pd.StringDtype("pyarrow")
    # One chunk per column: each of GE's row filters is a take, which on DuckDB's ~80 record batches per 10M rows
    # costs far more than on one contiguous array.
    return table.combine_chunks().to_pandas(types_mapper=lambda t: strings if pa.types.is_string(t) or pa.types.is_large_string(t)
                           else None)


def vectorisable(df: pd.DataFrame) -> pd.DataFrame:
    """Dtypes Great Expectations' pandas engine compares vectorised. Its range expectations fall back to a Python
    call per value for anything but int/float and datetime64[ns] columns (DuckDB returns datetime64[us] and
    nullable Int64): 80 s instead of 1 s on a 10M-row day. Nullable integers become float64 (NaN for NULL, exact
    below 2**53), timestamps nanoseconds."""
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_datetime64_any_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype):
            df[name] = df[name].astype("datetime64[ns]")
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype):
            df[name] = df[name].astype("float64")
    return df


def rows_per_day(conn: duckdb.DuckDBPyConnection, suite: SuiteFile, first: dt.date,
                 last: dt.date) -> dict[dt.date, int]:
    """Row count of each partition day in [first, last] that has rows."""
    column = _quote(suite.binding.partition_column)
    rows = conn.execute(
        f"SELECT CAST({column} AS DATE), count(*) FROM ({source_sql(suite)}) AS src "
        f"WHERE {column} BETWEEN ? AND ? GROUP BY 1", [first, last]).fetchall()
    return {d: n for d, n in rows}


def latest_day(conn: duckdb.DuckDBPyConnection, suite: SuiteFile) -> dt.date | None:
    """The newest partition day present: what a check validates when it runs outside a partitioned run."""
    value = conn.execute(f"SELECT max(CAST({_quote(suite.binding.partition_column)} AS DATE)) "
                         f"FROM ({source_sql(suite)}) AS src").fetchone()[0]
    return value


# --- suite parameters: values for {"$PARAMETER": name} in the suite's kwargs, computed per partition day ---------

def partition_window(conn, suite: SuiteFile, day: dt.date, cfg: dict, *, lateness_days: int) -> dict[str, Any]:
    """[day - lateness_days, day + 1): the event times the contract allows in landing day ``day``."""
    start = dt.datetime.combine(day - dt.timedelta(days=lateness_days), dt.time())
    return {"window_start": start, "window_end": dt.datetime.combine(day + dt.timedelta(days=1), dt.time())}


def row_count_band(conn, suite: SuiteFile, day: dt.date, cfg: dict, *, lateness_days: int) -> dict[str, Any]:
    """Bands around the trailing average row count of the ``trailing_days`` before ``day`` (days with rows only).

    ``bands`` maps a band name to [low, high] multipliers of that average; e.g. ``critical: [0.2, 5]``. With no
    history yet the bands are open (min 0, no max): the first day cannot be compared with anything.
    """
    trailing = int(cfg.get("trailing_days", 7))
    history = rows_per_day(conn, suite, day - dt.timedelta(days=trailing), day - dt.timedelta(days=1))
    average = sum(history.values()) / len(history) if history else None
    params: dict[str, Any] = {"row_count_trailing_average": average}
    for band, (low, high) in cfg.get("bands", {}).items():
        if average is None:
            params[f"row_count_min_{band}"], params[f"row_count_max_{band}"] = 0, None
        else:
            params[f"row_count_min_{band}"] = int(average * low)
            params[f"row_count_max_{band}"] = int(average * high) + 1
    return params


PARAMETER_PROVIDERS = {"partition_window": partition_window, "row_count_band": row_count_band}


def suite_parameters(conn: duckdb.DuckDBPyConnection, suite: SuiteFile, day: dt.date | None, *,
                     lateness_days: int = 1) -> dict[str, Any]:
    """All ``$PARAMETER`` values of a suite for one partition day."""
    params: dict[str, Any] = {}
    for provider, cfg in suite.binding.parameters.items():
        if day is None:
            raise ValueError(f"suite {suite.name}: parameters {provider!r} need a partition day")
        params.update(PARAMETER_PROVIDERS[provider](conn, suite, day, cfg, lateness_days=lateness_days))
    return params
