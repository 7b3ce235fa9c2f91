"""Failures: the daily job retries a step that hit a locked DuckDB file, and the run-failure sensor records every
failed run in alerts.jsonl and POSTs it to the configured webhook (an unreachable webhook never breaks it)."""

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.defs.ops.alerts import run_failure_alert
from orchestration.defs.ops.jobs import TRANSIENT_RETRY_POLICY
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib.alerts import post_alert

LOCK_ERROR = 'IO Error: Could not set lock on file "attnflow.duckdb": Conflicting lock is held'


@dg.op
def load_day():
    raise duckdb.IOException(LOCK_ERROR)


@dg.op
def build_marts(_loaded):
    pass


@dg.job
def failing_job():
    build_marts(load_day())


def failed_run(instance):
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False,
                                            tags={"dagster/partition": "2026-03-04"})
    assert not result.success
    return result


def evaluate_sensor(instance, result):
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event())
    run_failure_alert(context)


def read_alerts(home):
    return [json.loads(line) for line in (home / "reports" / "alerts.jsonl").read_text().splitlines()]


def test_failure_sensor_is_part_of_the_code_location_and_running_by_default():
    sensor = defs.resolve_sensor_def("run_failure_alert")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_failed_run_is_appended_to_the_alerts_file(attnflow_home, monkeypatch):
    monkeypatch.delenv("ATTNFLOW_ALERT_WEBHOOK_URL", raising=False)
    with dg.instance_for_test() as instance:
        first, second = failed_run(instance), failed_run(instance)
        evaluate_sensor(instance, first)
        evaluate_sensor(instance, second)
    alerts = read_alerts(attnflow_home)
    assert [a["run_id"] for a in alerts] == [first.run_id, second.run_id]  # appended, one line per failed run
    alert = alerts[0]
    assert alert["job"] == "failing_job" and alert["partitions"] == "2026-03-04"
    assert list(alert["failed_steps"]) == ["load_day"]  # build_marts was skipped, not failed
    assert LOCK_ERROR in alert["failed_steps"]["load_day"] and LOCK_ERROR in alert["error"]
    assert abs(dt.datetime.fromisoformat(alert["time"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert first.run_id in alert["text"] and "load_day" in alert["text"]


class _Recorder(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A local HTTP server on a free loopback port that records what is POSTed to it."""
    handler = type("Recorder", (_Recorder,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", handler
    server.shutdown()
    server.server_close()


def test_a_failed_run_is_posted_to_the_webhook_when_configured(attnflow_home, monkeypatch, webhook):
    url, handler = webhook
    monkeypatch.setenv("ATTNFLOW_ALERT_WEBHOOK_URL", url)
    with dg.instance_for_test() as instance:
        result = failed_run(instance)
        evaluate_sensor(instance, result)
    [(content_type, posted)] = handler.received
    assert content_type == "application/json"
    assert posted == read_alerts(attnflow_home)[0] and posted["run_id"] == result.run_id


def test_an_unreachable_or_failing_webhook_is_reported_not_raised(attnflow_home, monkeypatch, webhook):
    url, handler = webhook
    handler.status = 500
    assert "500" in post_alert(url, {"run_id": "r"})
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/alerts"
    assert post_alert(closed, {"run_id": "r"}, timeout_s=2) is not None
    monkeypatch.setenv("ATTNFLOW_ALERT_WEBHOOK_URL", closed)
    with dg.instance_for_test() as instance:
        result = failed_run(instance)
        evaluate_sensor(instance, result)  # does not raise
    assert [a["run_id"] for a in read_alerts(attnflow_home)] == [result.run_id]  # the file still has it


def test_the_daily_job_retries_a_step_that_hit_a_locked_duckdb_file(tmp_path):
    assert defs.resolve_job_def("attnflow_daily").op_retry_policy == TRANSIENT_RETRY_POLICY
    database = tmp_path / "attnflow.duckdb"
    holder = subprocess.Popen(  # another process holds the write lock until told to let go
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
                               "sys.stdin.readline(); c.close()", str(database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    attempts = []

    @dg.asset
    def writes_duckdb(warehouse: DuckDBWarehouse):
        attempts.append(dt.datetime.now())
        if len(attempts) == 2:  # the lock went away while the step waited to retry
            holder.communicate("release\n", timeout=30)
        with warehouse.connect() as conn:
            conn.execute("CREATE OR REPLACE TABLE t AS SELECT 1 AS x")

    try:
        job = dg.define_asset_job("locked", selection=[writes_duckdb], executor_def=dg.in_process_executor,
                                  op_retry_policy=TRANSIENT_RETRY_POLICY._replace(delay=0.2))  # same policy, shorter
        result = dg.Definitions(assets=[writes_duckdb], jobs=[job],
                                resources={"warehouse": DuckDBWarehouse(path=str(database))}
                                ).resolve_job_def("locked").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    finally:
        holder.kill()
    assert result.success and len(attempts) == 2
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 1 and "Could not set lock" in str(retries[0].event_specific_data.error.to_string())
