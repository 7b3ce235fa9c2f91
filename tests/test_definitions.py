"""The code location loads and validates; schedule and landing sensor request the right partitions."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs

REPO = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate_passes_for_the_workspace(attnflow_home):
    out = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                          "-w", str(REPO / "workspace.yaml")], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "All code locations passed validation" in out.stdout + out.stderr


def test_every_asset_has_a_group_and_a_description():
    graph = defs.resolve_asset_graph()
    specs = {key: graph.get(key) for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    groups = {node.group_name for node in specs.values()}
    assert groups == {"ingest", "staging", "intermediate", "marts", "ctr_model", "comment_model", "recommendation",
                      "ad_policy", "engagement_health"}
    missing = [k.to_user_string() for k, node in specs.items() if not node.description]
    assert not missing, f"assets without description: {missing}"
    raw = dg.AssetKey("raw_events")
    staged = dg.AssetKey(["staging", "stg_raw__events"])
    assert raw in graph.get(staged).parent_keys  # lineage from the ingest asset into dbt


def test_daily_schedule_requests_yesterdays_partition():
    schedule = defs.resolve_schedule_def("attnflow_daily_schedule")
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 5, 2, 0, tzinfo=dt.UTC))
    requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-03-04"]


def test_landing_sensor_requests_each_landed_day_once(attnflow_home):
    events = attnflow_home / "landing" / "events"
    (events / "dt=2026-03-01").mkdir(parents=True)
    (events / "dt=2026-03-01" / "part-0.jsonl").write_text('{"x": 1}\n')
    (events / "dt=2026-03-02").mkdir()  # folder without files: not landed yet
    (events / "dt=2020-01-01").mkdir()  # before ATTNFLOW_START_DATE: outside the partitions, never requested
    (events / "dt=2020-01-01" / "part-0.jsonl").write_text('{"x": 1}\n')
    sensor = defs.resolve_sensor_def("landing_sensor")

    def tick(instance, cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def())
        result = sensor.evaluate_tick(context)
        return result.run_requests, result.cursor

    with dg.instance_for_test() as instance:
        requests, cursor = tick(instance, None)
        assert [r.partition_key for r in requests] == ["2026-03-01"]
        again, cursor = tick(instance, cursor)
        assert again == []  # already processed: no second run
        (events / "dt=2026-03-01" / "part-1.jsonl").write_text('{"x": 2}\n')
        (events / "dt=2026-03-02" / "part-0.jsonl").write_text('{"x": 3}\n')
        changed, cursor = tick(instance, cursor)
        assert sorted(r.partition_key for r in changed) == ["2026-03-01", "2026-03-02"]
        assert requests[0].run_key not in {r.run_key for r in changed}  # re-delivered files run again


def test_instance_settings_allow_one_duckdb_writer(attnflow_home, monkeypatch):
    from orchestration.cli import init_home
    from orchestration.settings import load_settings

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    dagster_home = init_home(load_settings())
    assert dagster_home == attnflow_home / "dagster"
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1
        limits = config.run_queue_config.tag_concurrency_limits
        assert {"key": "attnflow/duckdb_writer", "limit": 1} in limits
    job = defs.resolve_job_def("attnflow_daily")
    assert job.tags.get("attnflow/duckdb_writer") == "true"
    assert {assets.node_def.pool for assets in defs.assets} == {"duckdb_writer"}  # every DuckDB writer


def test_daily_schedule_ticks_at_the_configured_hour_and_crosses_month_ends():
    schedule = defs.resolve_schedule_def("attnflow_daily_schedule")
    assert schedule.job_name == "attnflow_daily"
    assert schedule.cron_schedule == "0 2 * * *"  # ATTNFLOW_SCHEDULE_HOUR_UTC's default, in UTC
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC))
    assert [r.partition_key for r in schedule.evaluate_tick(context).run_requests] == ["2026-02-28"]


def test_landing_sensor_waits_until_the_landing_day_is_over(attnflow_home):
    from dagster._core.test_utils import freeze_time

    today = attnflow_home / "landing" / "events" / "dt=2026-03-05"
    today.mkdir(parents=True)
    (today / "part-0.jsonl").write_text('{"x": 1}\n')
    sensor, repo = defs.resolve_sensor_def("landing_sensor"), defs.get_repository_def()
    with dg.instance_for_test() as instance:
        with freeze_time(dt.datetime(2026, 3, 5, 18, 0, tzinfo=dt.UTC)):  # files of a day still landing
            during = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repo))
        assert during.run_requests == []
        (today / "part-1.jsonl").write_text('{"x": 2}\n')  # the rest of the day arrives
        with freeze_time(dt.datetime(2026, 3, 6, 0, 30, tzinfo=dt.UTC)):
            after = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=during.cursor,
                                                                 repository_def=repo))
        assert [r.partition_key for r in after.run_requests] == ["2026-03-05"]  # once, with all its files
