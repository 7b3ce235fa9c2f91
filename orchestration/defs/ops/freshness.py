"""Freshness: the marts and the scored outputs must be rebuilt every day, so a missed daily run shows as stale.

Dagster 1.13's `FreshnessPolicy` (it supersedes the `build_*_freshness_checks` factories, which now warn when
called) is evaluated by the daemon of `dagster dev` / `attnflow dev`, and the UI shows each asset's freshness (pass,
warn, fail). The policy is a time window since the last materialisation, not tied to the schedule's hour, so
landing-sensor runs count too. Caveat: Dagster evaluates it per asset, not per partition, so a backfill of old days
also counts as an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg

# A daily job finishes within a few hours of the previous day's run: warn after a day and two hours, fail after a
# day and six hours (one missed run, with room for a slow or queued one).
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=30),
                                                 warn_window=dt.timedelta(hours=26))

# Everything a consumer reads: the dbt marts (by group) and the scored outputs. The models themselves retrain only
# when there is enough new data, so they are deliberately left out.
FRESH_DAILY_GROUPS = frozenset({"marts"})
SCORED_OUTPUTS = frozenset(dg.AssetKey(name) for name in
                           ("ctr_scores", "ctr_monitoring", "comment_sentiment", "sentiment_trends",
                            "user_health_scores"))


def must_be_fresh_daily(spec: dg.AssetSpec) -> bool:
    return spec.group_name in FRESH_DAILY_GROUPS or spec.key in SCORED_OUTPUTS


def with_daily_freshness(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The same asset definitions, the marts and scored outputs among them carrying DAILY_FRESHNESS."""
    return list(dg.map_asset_specs(
        lambda spec: dg.apply_freshness_policy(spec, DAILY_FRESHNESS) if must_be_fresh_daily(spec) else spec,
        list(assets)))
