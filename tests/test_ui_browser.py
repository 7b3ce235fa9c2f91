"""End to end in a real browser: `dagster dev` on a free loopback port with a temporary DAGSTER_HOME and
ATTNFLOW_HOME, headless Chromium (Debian's package, driven by Playwright) on the asset graph and an asset page,
and a materialisation launched through the GraphQL API that the daemon runs to success.

Screenshots go to tests/output/ (gitignored). Skipped, with the reason, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = Path(__file__).resolve().parent / "output"
GROUPS = ("ingest", "staging", "intermediate", "marts", "ctr_model", "comment_model", "recommendation", "ad_policy",
          "engagement_health")
ASSETS_BY_GROUP = {"ingest": ("raw_events", "raw_annotations"), "staging": ("stg_raw__events",),
                   "marts": ("fct_ctr_training", "dim_users"), "ctr_model": ("ctr_model", "ctr_scores"),
                   "comment_model": ("comment_classifier", "sentiment_trends"),
                   "recommendation": ("recommender_model", "user_recommendations"),
                   "ad_policy": ("ad_policy", "ad_policy_evaluation"),
                   "engagement_health": ("health_model", "user_health_scores")}

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip(f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install -y chromium)",
                allow_module_level=True)
try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright
except ImportError:
    pytest.skip("browser test needs playwright (pip install -e '.[test]'); no browser is downloaded",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"dagster dev did not answer on {url} within {timeout_s} s")


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    """`dagster dev` (webserver + daemon) for the workspace, with its own homes, on a free loopback port."""
    home = tmp_path_factory.mktemp("ui") / "home"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    shutil.copy(REPO / "orchestration" / "dagster.yaml", dagster_home / "dagster.yaml")
    annotations = home / "landing" / "annotations"
    annotations.mkdir(parents=True)
    (annotations / "batch-1.csv").write_text("event_id,label,annotator_id,annotated_at\n"
                                             "e1,positive,a1,2026-03-01T10:00:00Z\ne2,negative,a2,\n")
    env = {**os.environ, "ATTNFLOW_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}
    for name in ("ATTNFLOW_LANDING_DIR", "ATTNFLOW_DUCKDB_PATH", "ATTNFLOW_REPORTS_DIR", "ATTNFLOW_MODELS_DIR"):
        env.pop(name, None)
    port = _free_port()
    log = open(home / "dagster-dev.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(REPO / "workspace.yaml"),
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, process)
        yield {"url": url, "port": port, "home": home}
    finally:  # dagster dev can hang on shutdown: ask, then stop the process group it started
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def _open(browser, url: str):
    """A page on `url`, with the first-visit community dialog dismissed so it does not cover the screenshots."""
    OUTPUT.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1800, "height": 1100})
    page.set_default_timeout(120_000)
    page.goto(url)
    try:
        page.get_by_role("button", name="Skip").click(timeout=5_000)
    except PlaywrightTimeout:
        pass
    return page


def test_global_lineage_shows_every_group(dagster_dev, browser):
    page = _open(browser, f"{dagster_dev['url']}/asset-groups")
    page.get_by_text("Global asset lineage").wait_for()
    for group in GROUPS:
        page.get_by_text(group, exact=True).first.wait_for()
    page.screenshot(path=str(OUTPUT / "global-lineage.png"))


@pytest.mark.parametrize(("group", "assets"), ASSETS_BY_GROUP.items())
def test_each_group_shows_its_assets(dagster_dev, browser, group, assets):
    page = _open(browser, f"{dagster_dev['url']}/locations/attnflow/asset-groups/{group}")
    for name in assets:
        page.get_by_text(name, exact=True).first.wait_for()
    page.screenshot(path=str(OUTPUT / f"group-{group}.png"))


def test_mart_page_shows_partitions_checks_and_its_freshness_policy(dagster_dev, browser):
    page = _open(browser, f"{dagster_dev['url']}/assets/marts/fct_ctr_training")
    for text in ("fct_ctr_training", "Partitions", "Checks", "Freshness policy"):
        page.get_by_text(text, exact=True).first.wait_for()
    page.screenshot(path=str(OUTPUT / "asset-fct_ctr_training.png"))


def test_materialisation_launched_through_graphql_succeeds(dagster_dev, browser):
    from dagster import DagsterRunStatus
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=dagster_dev["port"])
    run_id = client.submit_job_execution("__ASSET_JOB", repository_location_name="attnflow",
                                         repository_name="__repository__", asset_selection=[["raw_annotations"]])
    deadline, status = time.monotonic() + 240, None
    while time.monotonic() < deadline:  # queued, then started by the daemon
        status = client.get_run_status(run_id)
        if status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
            break
        time.sleep(2)
    page = _open(browser, f"{dagster_dev['url']}/runs/{run_id}")
    page.get_by_text("raw_annotations").first.wait_for()
    page.screenshot(path=str(OUTPUT / "run-raw_annotations.png"))
    assert status == DagsterRunStatus.SUCCESS, f"run {run_id} ended {status}; see {OUTPUT / 'run-raw_annotations.png'}"
    page = _open(browser, f"{dagster_dev['url']}/assets/raw_annotations")
    page.get_by_text("Latest materialization").first.wait_for()
    page.get_by_text("Row count").first.wait_for()  # metadata of the materialisation, shown once it exists
    assert page.get_by_text("Never materialized").count() == 0
    page.screenshot(path=str(OUTPUT / "asset-raw_annotations.png"))
