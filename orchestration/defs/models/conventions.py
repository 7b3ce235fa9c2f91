"""What every model asset shares: ownership, the DuckDB writer pool, daily partitioning with single-run backfills,
and idempotent day-by-day writes. One place, so the CTR and comment assets cannot drift apart."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration.defs.partitions import DUCKDB_WRITER_POOL, daily_partitions, single_run_backfill


def model_asset(**kwargs):
    """@dg.asset for a model-side asset: owned by the ML team, one DuckDB writer at a time."""
    return dg.asset(owners=["team:ml"], pool=DUCKDB_WRITER_POOL, **kwargs)


def daily_model_asset(**kwargs):
    """model_asset partitioned by landing day; a backfill of a range is one run."""
    return model_asset(partitions_def=daily_partitions, backfill_policy=single_run_backfill, **kwargs)


def model_kept(context: dg.AssetExecutionContext, reason: str, serving_version: str | None) -> dg.MaterializeResult:
    """The outcome of a model asset that did not train a new version (too little data, nothing new, ...).

    It is materialised all the same, with the reason: a model asset that emits nothing makes Dagster skip every
    asset downstream in the run, so the day's scores would silently not be written while a serving model exists.
    """
    context.log.warning(reason)
    return dg.MaterializeResult(metadata={"retrained": False, "reason": reason,
                                          "serving_version": serving_version or "none"})


# A day with fewer rows than this share of the window's median day is partial: typically the day before the first
# landed day, which holds only the late tail of its events (a few percent of a day). Training on it, or testing on
# it, says nothing about a real day.
MIN_SHARE_OF_MEDIAN_DAY = 0.2


def thin_days(rows_per_day: pd.Series, min_rows: int, unit: str) -> dict[str, str]:
    """Days (index: day as text) to leave out of a model's window, with the reason: fewer than `min_rows` rows, or
    fewer than MIN_SHARE_OF_MEDIAN_DAY of the median day's rows."""
    if rows_per_day.empty:
        return {}
    floor = MIN_SHARE_OF_MEDIAN_DAY * float(rows_per_day.median())
    reasons = {}
    for day, n in rows_per_day.items():
        if n < min_rows:
            reasons[str(day)] = f"only {n} {unit} (min_rows_per_day {min_rows})"
        elif n < floor:
            reasons[str(day)] = (f"only {n} {unit}, under {MIN_SHARE_OF_MEDIAN_DAY:.0%} of the median day's "
                                 f"{int(rows_per_day.median())}: a partial day")
    return reasons


def chart_metadata(context: dg.AssetExecutionContext, render: Callable[[], dict[str, Path]]) -> dict:
    """Metadata for the model's evaluation charts: a path entry per PNG (`<name>_chart`) and one Markdown entry
    (`charts`) embedding them all, so the UI shows them inline. ``render`` writes the PNGs (into the registered
    version's folder) and returns them by name. A chart that fails to render is logged, never fails the asset:
    the version is registered (and maybe promoted) by then."""
    from orchestration.lib.model_charts import markdown_images

    try:
        paths = render()
    except Exception as exc:  # noqa: BLE001 (a report must not fail a trained, registered model)
        context.log.warning(f"model charts not rendered: {exc!r}")
        return {}
    return {**{f"{name}_chart": dg.MetadataValue.path(str(path)) for name, path in paths.items()},
            "charts": dg.MetadataValue.md(markdown_images(paths))}


def replace_event_days(conn, table: str, rows, first, last) -> None:
    """Swap the rows of event days first..last in `table` for `rows` (a DataFrame, columns matched by name) in one
    transaction: re-running a day gives the same rows, never duplicates, and a failure leaves the old rows."""
    conn.register("_replacement_rows", rows)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM {table} WHERE event_date BETWEEN ? AND ?", [first, last])
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _replacement_rows")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("_replacement_rows")
