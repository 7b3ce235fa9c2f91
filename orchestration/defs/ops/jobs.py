"""Jobs. The daily job materialises every asset for a partition or a date range, in one process."""

import dagster as dg

# Runs carrying this tag are limited to one at a time (dagster.yaml): DuckDB has a single writer.
DUCKDB_WRITER_TAG = {"attnflow/duckdb_writer": "true"}

daily_job = dg.define_asset_job(
    name="attnflow_daily",
    selection=dg.AssetSelection.all(),
    description="Ingest a landing day (or a range, as one run), then build every dbt model and downstream asset.",
    tags=DUCKDB_WRITER_TAG,
    # Steps run one after another in the run's process: no per-step start-up cost and one DuckDB writer.
    executor_def=dg.in_process_executor,
)
