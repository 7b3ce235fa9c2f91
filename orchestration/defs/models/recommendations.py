"""Recommendation assets: train + register + promote (`recommender_model`) and daily top-N lists
(`user_recommendations`) with a blocking check on the lists.

Thin wiring: the modelling is in ml.recommend, the registry in ml.registry. `recommender_model` is part of the
daily job: it retrains on the latest `window_days` of `marts.fct_daily_attention` (train on the days before the
latest, evaluate on the latest) and the registry promotes it only if its recall@K on that day is not worse than
the serving version's and beats the popularity baseline's.
"""

import datetime as dt
import json

import dagster as dg
import pandas as pd

from orchestration.defs.models.conventions import (daily_model_asset, model_asset, model_kept, replace_event_days,
                                                    thin_days)
from orchestration.defs.partitions import event_days_to_rescore
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib import model_report_markdown as md
from orchestration.lib.quality_ledger import days_failing_critical
from orchestration.settings import load_settings

ATTENTION_TABLE = dg.AssetKey(["marts", "fct_daily_attention"])
SESSIONS_TABLE = dg.AssetKey(["marts", "fct_sessions"])
ITEMS_TABLE = dg.AssetKey(["marts", "dim_items"])
QUALITY_GATES = ["raw_events"]
REGISTRY_NAME = "recommender"
GROUP = "recommendation"
ATTENTION_COLUMNS = "user_key, item_id, event_date, topic, engaged_ms, likes, comments, shares"


class RecommenderModelConfig(dg.Config):
    window_days: int = 28
    """Days of attention used: all but the latest train, the latest evaluates."""
    min_rows_per_day: int = 200
    """Days with fewer user-item rows are left out (the thin late tail before the first landed day)."""
    promotion_tolerance: float = 0.005
    """How much lower recall@K a new version may have than the serving one and still be promoted."""
    factors: int = 16
    regularization: float = 1.0
    alpha: float = 4.0
    iterations: int = 15
    k: int = 20
    exclude_seen: bool = True

    def recommender_config(self):
        from ml.recommend import RecommenderConfig

        return RecommenderConfig(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                                 iterations=self.iterations, k=self.k, exclude_seen=self.exclude_seen)


def _registry():
    from ml.registry import ModelRegistry

    return ModelRegistry(load_settings().models_dir, REGISTRY_NAME)


def _generator_oracle():
    """The generator's true preferences when the data is synthetic (its manifest names seed and volume)."""
    from ml.recommend.oracle import GeneratorOracle
    from ml.synthetic.world import build_world

    settings = load_settings()
    manifests = sorted(settings.truth_dir.glob("dt=*/manifest.json")) if settings.truth_dir.is_dir() else []
    if not manifests:
        return None
    manifest = json.loads(manifests[-1].read_text())
    return GeneratorOracle(build_world(manifest["seed"], manifest["events_per_day"]), settings.pseudonym_salt)


def _attention(conn, first: dt.date, last: dt.date):
    from ml.recommend import AttentionWeights, interactions_from_attention

    rows = conn.execute(f"SELECT {ATTENTION_COLUMNS} FROM marts.fct_daily_attention "
                        "WHERE event_date BETWEEN ? AND ?", [first, last]).df()
    return interactions_from_attention(rows, AttentionWeights())


@model_asset(
    deps=[ATTENTION_TABLE],
    group_name=GROUP,
    kinds={"implicit", "python"},
    output_required=False,
)
def recommender_model(context: dg.AssetExecutionContext, config: RecommenderModelConfig,
                      warehouse: DuckDBWarehouse):
    """Implicit-feedback matrix factorisation (ALS) on attention-weighted user-item interactions from
    `marts.fct_daily_attention`, evaluated on the latest day against popularity and random baselines (and the
    generator's true preferences on synthetic data), versioned in the model registry and promoted only if its
    recall@K is not worse than the serving version's on the same day and beats popularity. With fewer than two
    usable days, or rows and settings already trained on, nothing is trained (`retrained: false`)."""
    from ml.recommend import train_recommender
    from ml.recommend.evaluate import evaluate_recommender
    from ml.recommend.recommender import Recommender
    from ml.recommend.split import time_split

    with warehouse.connect(read_only=True) as conn:
        last_day = conn.execute("SELECT max(event_date) FROM marts.fct_daily_attention").fetchone()[0]
        if last_day is None:
            yield model_kept(context, "marts.fct_daily_attention is empty: nothing to train on yet",
                             _registry().promoted_version())
            return
        first_day = last_day - dt.timedelta(days=config.window_days - 1)
        # Which days can train is decided on their row counts, before the (large) table is read.
        rows_per_day = pd.Series(dict(conn.execute(
            "SELECT CAST(event_date AS VARCHAR), count(*) FROM marts.fct_daily_attention "
            "WHERE event_date BETWEEN ? AND ? GROUP BY 1", [first_day, last_day]).fetchall()), dtype="int64")
        failing = days_failing_critical(conn, QUALITY_GATES)
        left_out = {str(d): f"failed {why}" for d, why in failing.items() if first_day <= d <= last_day}
        left_out.update({d: why for d, why in thin_days(rows_per_day, config.min_rows_per_day,
                                                        "user-item rows").items() if d not in left_out})
        if left_out:
            context.log.warning(f"leaving days out of training: {left_out}")
        registry = _registry()
        if len(set(rows_per_day.index) - set(left_out)) < 2:
            yield model_kept(context, "fewer than two usable days of attention: a time split needs a train and a "
                                      "test day", registry.promoted_version())
            return
        interactions = _attention(conn, first_day, last_day)
    interactions = interactions[~interactions["day"].dt.date.astype(str).isin(set(left_out))]

    settings = config.recommender_config()
    days = sorted(interactions["day"].dt.date.astype(str).unique())
    data_version = f"fct_daily_attention:{days[0]}..{days[-1]}:{len(interactions)}rows"
    latest = registry.get(registry.latest_version()) if registry.latest_version() else None
    if latest and latest.metadata.get("data_version") == data_version \
            and latest.metadata.get("config") == settings.to_dict():
        # Training is deterministic: the same rows and settings would register a copy of that version.
        yield model_kept(context, f"{latest.version} was trained on these rows with these settings: not "
                                  "retraining", registry.promoted_version())
        return
    model, report = train_recommender(interactions, settings, oracle=_generator_oracle())
    recall = f"recall@{settings.k}"

    def write_artefacts(folder):
        model.save(folder)
        report.write(folder / "report.json")

    def recall_of(registered) -> float:
        served = Recommender.load(registered.path)
        return evaluate_recommender(served, time_split(interactions))["rankers"]["model"][recall]

    version = registry.register(write_artefacts, report.registry_metadata(data_version=data_version))
    decision = registry.promote_if_not_worse(
        version, recall, higher_is_better=True, tolerance=config.promotion_tolerance,
        candidate_score=report.model[recall], score_fn=recall_of,
        must_beat=report.metric("popularity", recall), must_beat_name="the popularity baseline on the same day",
    )
    rankers = {**report.evaluation["rankers"], **report.evaluation["model_by_reason"]}
    columns = (*report.metric_names(), "users")
    metadata = {
        "version": version,
        "promoted": decision.promoted,
        "promotion_decision": decision.reason,
        "serving_version": registry.promoted_version(),
        "split": report.split,
        "left_out_days": left_out,
        "evaluation": dg.MetadataValue.md(md.metrics_table(rankers, columns=columns)),
        recall: report.model[recall],
        f"ndcg@{settings.k}": report.model[f"ndcg@{settings.k}"],
        "popularity_" + recall: report.metric("popularity", recall),
        "test_users": report.evaluation["test_users"],
        "cold_test_users": report.evaluation["cold_test_users"],
        "catalogue_items": report.training["items"],
        "training_users": report.training["users"],
        "registry_path": dg.MetadataValue.path(str(registry.get(version).path)),
    }
    gap = report.fraction_of_oracle_gap_closed(recall)
    if gap is not None:
        metadata["fraction_of_oracle_gap_closed"] = gap
    context.log.info("\n" + report.metrics_table())
    yield dg.MaterializeResult(metadata=metadata)


RECOMMENDATIONS_DDL = """
CREATE SCHEMA IF NOT EXISTS scores;
CREATE TABLE IF NOT EXISTS scores.user_recommendations (
    event_date DATE NOT NULL, user_key VARCHAR NOT NULL, rank INTEGER NOT NULL, item_id VARCHAR NOT NULL,
    score DOUBLE NOT NULL, reason VARCHAR NOT NULL, model_version VARCHAR NOT NULL
);
"""
CHECK_NAME = "recommendations_valid"


class UserRecommendationsConfig(dg.Config):
    history_days: int = 28
    """Days of a user's attention that shape their list (and whose items are excluded as already seen)."""


@daily_model_asset(
    deps=[recommender_model, ATTENTION_TABLE, SESSIONS_TABLE, ITEMS_TABLE],
    group_name=GROUP,
    kinds={"implicit", "duckdb"},
    output_required=False,
    check_specs=[dg.AssetCheckSpec(CHECK_NAME, asset="user_recommendations", blocking=True,
                                   description="Every user active on the day has a list; no item twice in a list; "
                                               "every item is in marts.dim_items.")],
)
def user_recommendations(context: dg.AssetExecutionContext, config: UserRecommendationsConfig,
                         warehouse: DuckDBWarehouse):
    """Top-K items for every user active on the day (a session in `marts.fct_sessions`), from the promoted
    recommender given their attention up to and including that day, in `scores.user_recommendations`, with the
    reason each list was made: `model` (matrix factorisation), `segment_popularity:<topic>` (a new or light user:
    what their interest segment watches lately) or `global_popularity` (no usable history). Re-running a day
    replaces it. Skipped while no model is promoted."""
    from ml.recommend.recommender import Recommender

    served = _registry().promoted()
    if served is None:
        context.log.warning("no promoted recommender yet: nothing to recommend with")
        # Not materialised; the check's result must still be reported: nothing was written, so nothing is broken.
        yield dg.AssetCheckResult(check_name=CHECK_NAME, passed=True, severity=dg.AssetCheckSeverity.ERROR,
                                  metadata={"skipped": "no promoted recommender: no lists written"})
        return
    model = Recommender.load(served.path)
    first, last = event_days_to_rescore(context)
    lists, per_day = [], {}
    with warehouse.connect() as conn:
        for offset in range((last - first).days + 1):
            day = first + dt.timedelta(days=offset)
            active = [row[0] for row in conn.execute(
                "SELECT DISTINCT user_key FROM marts.fct_sessions WHERE session_date = ? ORDER BY 1", [day]
            ).fetchall()]
            history = _attention(conn, day - dt.timedelta(days=config.history_days - 1), day)
            recs = model.recommend(history, active)
            recs = recs.rename(columns={"user": "user_key", "item": "item_id"})
            recs.insert(0, "event_date", day)
            recs["model_version"] = served.version
            lists.append(recs)
            per_day[str(day)] = {"active_users": len(active), "users_served": int(recs["user_key"].nunique()),
                                 **recs["reason"].str.split(":").str[0].value_counts().to_dict()}
        table = pd.concat(lists, ignore_index=True)
        conn.execute(RECOMMENDATIONS_DDL)
        replace_event_days(conn, "scores.user_recommendations", table, first, last)
        problems = _list_problems(conn, first, last)
    reasons = table["reason"].str.split(":").str[0].value_counts().to_dict()
    yield dg.MaterializeResult(
        metadata={"dagster/row_count": len(table), "model_version": served.version,
                  "event_days": f"{first} .. {last}", "users_served": int(table["user_key"].nunique()),
                  "lists_by_reason": reasons, "per_day": per_day},
        check_results=[dg.AssetCheckResult(check_name=CHECK_NAME, passed=not any(problems.values()),
                                           severity=dg.AssetCheckSeverity.ERROR, metadata=problems)],
    )


def _list_problems(conn, first: dt.date, last: dt.date) -> dict[str, int]:
    """Counts of what must never happen in the stored lists of first..last (all zero when valid)."""
    window = [first, last]
    return {
        "active_users_without_a_list": conn.execute("""
            SELECT count(*) FROM (SELECT DISTINCT session_date AS event_date, user_key FROM marts.fct_sessions
                                  WHERE session_date BETWEEN ? AND ?) a
            ANTI JOIN scores.user_recommendations r USING (event_date, user_key)""", window).fetchone()[0],
        "duplicate_items_in_a_list": conn.execute("""
            SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM scores.user_recommendations
                                                 WHERE event_date BETWEEN ? AND ?
                                                 GROUP BY event_date, user_key, item_id)""", window).fetchone()[0],
        "items_outside_the_catalogue": conn.execute("""
            SELECT count(*) FROM scores.user_recommendations r
            WHERE event_date BETWEEN ? AND ? AND item_id NOT IN (SELECT item_id FROM marts.dim_items)""",
            window).fetchone()[0],
    }
