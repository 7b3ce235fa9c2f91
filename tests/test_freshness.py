"""Freshness: the marts and scored outputs (only they) carry the daily policy, and the daemon's evaluation of it
passes, warns and fails with the age of the last materialisation."""

import asyncio
import datetime as dt

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.test_utils import BasicLoadingContext, freeze_time
from dagster._daemon.freshness import FreshnessDaemon

from orchestration.definitions import defs
from orchestration.defs.ops.freshness import DAILY_FRESHNESS, SCORED_OUTPUTS, with_daily_freshness

SESSIONS = dg.AssetKey(["marts", "fct_sessions"])


def test_marts_and_scored_outputs_must_be_fresh_daily():
    graph = defs.resolve_asset_graph()
    nodes = {key: graph.get(key) for key in graph.materializable_asset_keys}
    fresh = {key for key, node in nodes.items() if node.freshness_policy == DAILY_FRESHNESS}
    marts = {key for key, node in nodes.items() if node.group_name == "marts"}
    assert {SESSIONS, dg.AssetKey(["marts", "dim_users"]), dg.AssetKey(["marts", "fct_comments"])} <= marts
    assert SCORED_OUTPUTS <= set(nodes)
    assert fresh == marts | SCORED_OUTPUTS
    for key in (dg.AssetKey("raw_events"), dg.AssetKey(["staging", "stg_raw__events"]), dg.AssetKey("ctr_model"),
                dg.AssetKey("comment_classifier")):
        assert nodes[key].freshness_policy is None  # inputs and retrained-when-needed models carry no policy


def _freshness(instance, node, at: dt.datetime) -> FreshnessState:
    """The state the freshness daemon would record for `node` at time `at`."""
    with freeze_time(at):
        return asyncio.run(FreshnessDaemon()._compute_asset_freshness_state(BasicLoadingContext(instance), node))


def test_a_missed_daily_run_makes_a_mart_stale():
    @dg.asset(key=SESSIONS, group_name="marts")
    def stand_in():  # the dbt model's key, group and freshness wiring; no dbt needed to materialise it
        return dg.MaterializeResult()

    [fresh_asset] = with_daily_freshness([stand_in])
    node = dg.Definitions(assets=[fresh_asset]).resolve_asset_graph().get(SESSIONS)
    with dg.instance_for_test() as instance:
        assert _freshness(instance, node, dt.datetime.now(dt.UTC)) == FreshnessState.UNKNOWN  # never built
        assert dg.materialize([fresh_asset], instance=instance).success
        built = dt.datetime.fromtimestamp(instance.get_latest_materialization_event(SESSIONS).timestamp, dt.UTC)
        assert _freshness(instance, node, built + dt.timedelta(hours=23)) == FreshnessState.PASS
        assert _freshness(instance, node, built + dt.timedelta(hours=27)) == FreshnessState.WARN
        assert _freshness(instance, node, built + dt.timedelta(hours=31)) == FreshnessState.FAIL  # a day missed
        assert dg.materialize([fresh_asset], instance=instance).success  # the next run makes it fresh again
        assert _freshness(instance, node, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == FreshnessState.PASS


def test_an_asset_without_the_policy_is_never_stale():
    raw = defs.resolve_asset_graph().get(dg.AssetKey("raw_events"))
    with dg.instance_for_test() as instance:
        assert _freshness(instance, raw, dt.datetime.now(dt.UTC)) == FreshnessState.NOT_APPLICABLE
