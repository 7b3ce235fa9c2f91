"""dbt models as Dagster assets: incremental models are daily-partitioned, whole-table models are not.

One @dbt_assets per partitions definition (mixing them in one multi-asset breaks). Both run ``dbt build``, so
each model's dbt tests run right after it and arrive as asset checks. When a run asks for reports
(ATTNFLOW_DATA_DOCS=1 or tag attnflow/data_docs=true), the dbt docs site is built after the build and linked
from each materialisation (docs.py).
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.docs import stream_with_docs
from orchestration.defs.dbt.invocations import invocation_target_path
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.dbt.translator import AttnflowDbtTranslator
from orchestration.defs.partitions import DUCKDB_WRITER_POOL, daily_partitions, single_run_backfill
from orchestration.defs.resources import export_dbt_env
from orchestration.lib.dbt_vars import dbt_vars_arg

INCREMENTAL = "config.materialized:incremental"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select=INCREMENTAL,
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    dagster_dbt_translator=AttnflowDbtTranslator(),
    pool=DUCKDB_WRITER_POOL,
    name="dbt_daily_models",
)
def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Incremental staging/intermediate/mart models for the run's landing-day window (one dbt call per range)."""
    export_dbt_env()
    window = context.partition_time_window
    yield from stream_with_docs(
        context, dbt, dbt.cli(["build", *dbt_vars_arg(window.start, window.end)], context=context,
                              target_path=invocation_target_path(context)).stream())


@dbt_assets(
    manifest=dbt_project.manifest_path,
    exclude=INCREMENTAL,
    dagster_dbt_translator=AttnflowDbtTranslator(),
    pool=DUCKDB_WRITER_POOL,
    name="dbt_whole_table_models",
)
def dbt_whole_table_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Profiles, dimensions and comment labels, rebuilt from all history on each run."""
    export_dbt_env()
    yield from stream_with_docs(context, dbt, dbt.cli(["build"], context=context,
                                                      target_path=invocation_target_path(context)).stream())
