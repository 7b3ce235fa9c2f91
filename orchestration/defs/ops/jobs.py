"""Jobs. The daily job materialises every asset for a partition or a date range, in one process."""

import dagster as dg

# Runs carrying this tag are limited to one at a time (dagster.yaml): DuckDB has a single writer.
DUCKDB_WRITER_TAG = {"attnflow/duckdb_writer": "true"}

# Transient failures (the DuckDB file locked by another process: "Could not set lock on file") clear up by
# themselves, so a failed step is retried after about 15 s, 45 s and 105 s (exponential backoff, +/- 15 s jitter).
# Dagster cannot tell a lock from a bug: any Python or dbt error is retried (dagster-dbt raises the same error for a
# failing dbt test), so a real fault fails the run about three minutes later. A failed blocking check is never
# retried. An asset's own retry_policy (raw_events has one) takes precedence.
TRANSIENT_RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL,
                                        jitter=dg.Jitter.PLUS_MINUS)

daily_job = dg.define_asset_job(
    name="attnflow_daily",
    selection=dg.AssetSelection.all(),
    description="Ingest a landing day (or a range, as one run), then build every dbt model and downstream asset.",
    tags=DUCKDB_WRITER_TAG,
    # Steps run one after another in the run's process: no per-step start-up cost and one DuckDB writer.
    executor_def=dg.in_process_executor,
    op_retry_policy=TRANSIENT_RETRY_POLICY,
)
