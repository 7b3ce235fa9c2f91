"""Ad-policy assets: learn which ad to show from logged feedback (`ad_policy`) and evaluate the serving policy
off-policy (`ad_policy_evaluation`), without an online experiment.

Thin wiring: learning and estimators are in ml.bandit, the registry in ml.registry. The logged feedback is
`marts.fct_impressions` (ad, candidates, propensity, click, slot, device, network, hour) with the user's segment
(top interest topic, point in time) from `marts.fct_ctr_training`; the ads' topic and campaign from
`marts.dim_ads` are the action features. Impressions that cannot be evaluated (no propensity, no candidates, the
shown ad not among them) are left out and counted by reason on the metadata, never dropped silently.
"""

import datetime as dt

import dagster as dg
import numpy as np
import pandas as pd

from orchestration.defs.models.conventions import model_asset, model_kept, thin_days
from orchestration.defs.resources import DuckDBWarehouse
from orchestration.lib.quality_ledger import days_failing_critical
from orchestration.settings import load_settings

IMPRESSIONS = dg.AssetKey(["marts", "fct_impressions"])
TRAINING_TABLE = dg.AssetKey(["marts", "fct_ctr_training"])
ADS = dg.AssetKey(["marts", "dim_ads"])
QUALITY_GATES = ["raw_events", "fct_ctr_training"]
REGISTRY_NAME = "ad_policy"
GROUP = "ad_policy"

FEEDBACK_SQL = """
SELECT i.impression_id, i.event_date, coalesce(t.user_top_topic, 'unknown') AS segment,
       coalesce(CAST(i.slot AS VARCHAR), 'unknown') AS slot, coalesce(i.device, 'unknown') AS device,
       coalesce(i.network, 'unknown') AS network, CAST(i.hour_of_day AS VARCHAR) AS hour,
       i.ad_id, i.candidate_ad_ids AS candidates, i.propensity, i.is_clicked,
       CASE WHEN i.propensity IS NULL THEN 'no propensity'
            WHEN i.propensity <= 0 OR i.propensity > 1 THEN 'propensity outside (0, 1]'
            WHEN i.candidate_ad_ids IS NULL OR len(i.candidate_ad_ids) = 0 THEN 'no candidates'
            WHEN NOT list_contains(i.candidate_ad_ids, i.ad_id) THEN 'shown ad not among its candidates'
       END AS unusable_because
FROM marts.fct_impressions AS i
LEFT JOIN marts.fct_ctr_training AS t USING (impression_id)
WHERE i.event_date BETWEEN ? AND ?
ORDER BY i.event_ts, i.impression_id
"""


class AdPolicyConfig(dg.Config):
    window_days: int = 14
    """Days of logged feedback used: the policy learns on all but the latest, which evaluates it."""
    min_rows_per_day: int = 200
    """Days with fewer usable impressions are left out (the first day holds only the late tail of its events)."""
    promotion_estimator: str = "dr"
    """Estimator whose paired bootstrap interval of (new - serving value) must lie above 0 for a promotion."""
    epsilon: float = 0.1
    """Exploration the learned policy keeps, so its own logs can evaluate the next policy."""
    n_bootstrap: int = 1000
    confidence: float = 0.95


def _registry():
    from ml.registry import ModelRegistry

    return ModelRegistry(load_settings().models_dir, REGISTRY_NAME)


def _load_feedback(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, window_days: int,
                   min_rows_per_day: int):
    """The window's usable logged feedback (a DataFrame), the ads' features, left-out days and unusable rows."""
    with warehouse.connect(read_only=True) as conn:
        last_day = conn.execute("SELECT max(event_date) FROM marts.fct_impressions").fetchone()[0]
        if last_day is None:
            return None, {}, {}, {}
        first_day = last_day - dt.timedelta(days=window_days - 1)
        df = conn.execute(FEEDBACK_SQL, [first_day, last_day]).df()
        ads = conn.execute("SELECT ad_id, topic, campaign_id FROM marts.dim_ads").df()
        failing = days_failing_critical(conn, QUALITY_GATES)
    unusable = df["unusable_because"].value_counts().to_dict()
    if unusable:
        context.log.warning(f"impressions left out of off-policy learning/evaluation: {unusable}")
    df = df[df["unusable_because"].isna()]
    left_out = {str(day): f"failed {why}" for day, why in failing.items() if first_day <= day <= last_day}
    rows_per_day = df["event_date"].astype(str).value_counts()
    left_out.update({day: why for day, why in thin_days(rows_per_day, min_rows_per_day, "usable impressions").items()
                     if day not in left_out})
    df = df[~df["event_date"].astype(str).isin(set(left_out))].reset_index(drop=True)
    features = {row.ad_id: {"topic": str(row.topic), "campaign": str(row.campaign_id)} for row in ads.itertuples()}
    return df, features, left_out, {k: int(v) for k, v in unusable.items()}


def _feedback(df: pd.DataFrame, features: dict):
    from ml.bandit import from_frame
    from ml.bandit.ad_schema import AD_COLUMNS

    return from_frame(df, AD_COLUMNS, action_features=features)


def _truth_for(test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Per evaluation row and candidate: the generator's logging probability and true click probability, when the
    data is synthetic (None otherwise, or when the truth does not cover every row)."""
    truth_dir = load_settings().truth_dir
    event_days = sorted({pd.Timestamp(d).date() for d in test["event_date"]})
    days = {str(d) for d in event_days}
    # an event day's impressions land on that day or, late, the next one
    landing_days = days | {str(d + dt.timedelta(days=1)) for d in event_days}
    files = [truth_dir / f"dt={d}" / "impressions.parquet" for d in sorted(landing_days)]
    files = [f for f in files if f.exists()]
    columns = ["event_id", "event_date", "candidate_ad_ids", "candidate_propensities", "candidate_true_click_probs"]
    parts = [pd.read_parquet(p, columns=columns) for p in files]
    parts = [p[p["event_date"].astype(str).isin(days)] for p in parts]
    if not parts:
        return None
    truth = pd.concat(parts).set_index("event_id").reindex(test["impression_id"])
    if truth["candidate_ad_ids"].isna().any():
        return None
    same_order = all(list(a) == list(b) for a, b in zip(truth["candidate_ad_ids"], test["candidates"]))
    if not same_order:
        return None
    return (np.vstack(truth["candidate_propensities"].to_numpy()),
            np.vstack(truth["candidate_true_click_probs"].to_numpy()))


def _split_by_last_day(df: pd.DataFrame):
    """(days, rows before the latest day, rows of the latest day), or a reason why there is nothing to split."""
    days = sorted(df["event_date"].astype(str).unique())
    if len(days) < 2:
        return (f"only {len(days)} usable day(s) of logged feedback ({days}); learning and evaluating a policy needs "
                "at least 2 (train on the earlier, evaluate on the latest)")
    is_test = df["event_date"].astype(str) == days[-1]
    return days, df[~is_test].reset_index(drop=True), df[is_test].reset_index(drop=True)


def _evaluation_metadata(evaluation) -> dict:
    metadata = {
        "estimates": dg.MetadataValue.md(evaluation.markdown()),
        "estimates_json": evaluation.to_dict(),
        "evaluation_rows": evaluation.rows,
    }
    for name, estimate in evaluation.uplift.items():
        metadata[f"uplift_{name}"] = estimate.value
        metadata[f"uplift_{name}_ci_low"] = estimate.ci_low
        metadata[f"uplift_{name}_ci_high"] = estimate.ci_high
    if evaluation.true_values:
        metadata["true_uplift"] = evaluation.true_uplift
        metadata["estimator_errors"] = evaluation.errors()
    return metadata


@model_asset(
    deps=[IMPRESSIONS, TRAINING_TABLE, ADS],
    group_name=GROUP,
    kinds={"vowpalwabbit", "python"},
    output_required=False,
)
def ad_policy(context: dg.AssetExecutionContext, config: AdPolicyConfig, warehouse: DuckDBWarehouse):
    """Which ad to show among a request's candidates: a Vowpal Wabbit contextual-bandit policy learnt from the
    logged feedback of all but the latest day, versioned in the model registry and promoted only when the lower
    bound of the paired bootstrap interval of (its value - the serving policy's value) on the latest day is above
    0 (DR by default; before any promotion the serving policy is the one that logged the data). With fewer than
    two usable days nothing is trained (materialised with `retrained: false` and the reason)."""
    from dataclasses import replace

    from ml.bandit import BanditPolicy, BootstrapConfig, learn_and_evaluate
    from ml.bandit.ad_schema import AD_POLICY_CONFIG

    registry = _registry()
    df, features, left_out, unusable = _load_feedback(context, warehouse, config.window_days,
                                                      config.min_rows_per_day)
    split = _split_by_last_day(df) if df is not None else "marts.fct_impressions is empty: nothing to learn from yet"
    if isinstance(split, str):
        yield model_kept(context, split, registry.promoted_version())
        return
    days, train_df, test_df = split
    serving = registry.promoted()
    current = BanditPolicy.load(serving.path) if serving else None
    truth = _truth_for(test_df)
    learned = learn_and_evaluate(
        _feedback(train_df, features), _feedback(test_df, features), current=current,
        policy_config=replace(AD_POLICY_CONFIG, epsilon=config.epsilon),
        bootstrap=BootstrapConfig(n_resamples=config.n_bootstrap, confidence=config.confidence),
        true_click_probs=truth[1] if truth else None, logging_probs=truth[0] if truth else None,
    )
    evaluation = learned.evaluation
    if config.promotion_estimator not in evaluation.uplift:
        raise ValueError(f"promotion_estimator {config.promotion_estimator!r}: use one of {list(evaluation.uplift)}")
    uplift = evaluation.uplift[config.promotion_estimator]
    window = {"train": days[:-1], "evaluation": [days[-1]]}

    def write_artefacts(folder):
        learned.policy.save(folder)

    metric = f"{config.promotion_estimator}_uplift_ci_low"
    version = registry.register(write_artefacts, {
        "training_window": window, "rows": {"train": len(train_df), "evaluation": len(test_df)},
        "metrics": {metric: uplift.ci_low, **{f"new_{k}": e.value for k, e in evaluation.estimates["new"].items()}},
        "evaluation": evaluation.to_dict(), "left_out_days": left_out, "unusable_impressions": unusable,
        "data_version": f"fct_impressions:{days[0]}..{days[-1]}:{len(df)}rows",
    })
    baseline = f"serving {serving.version}" if serving else "the logging policy"
    decision = registry.promote_if_not_worse(
        version, metric, higher_is_better=True, tolerance=0.0, candidate_score=uplift.ci_low, current_score=0.0,
        must_beat=0.0, must_beat_name=f"0: the {config.confidence:.0%} interval of its value minus that of "
                                      f"{baseline} ({config.promotion_estimator.upper()}) must lie above 0",
    )
    context.log.info("\n" + evaluation.markdown())
    yield dg.MaterializeResult(metadata={
        "retrained": True,
        "version": version,
        "promoted": decision.promoted,
        "promotion_decision": decision.reason,
        "compared_with": baseline,
        "serving_version": registry.promoted_version(),
        "training_window": window,
        "rows": {"train": len(train_df), "evaluation": len(test_df)},
        "left_out_days": left_out,
        "unusable_impressions": unusable,
        "registry_path": dg.MetadataValue.path(str(registry.get(version).path)),
        **_evaluation_metadata(evaluation),
    })


@model_asset(
    deps=[ad_policy],
    group_name=GROUP,
    kinds={"python"},
    output_required=False,
)
def ad_policy_evaluation(context: dg.AssetExecutionContext, config: AdPolicyConfig, warehouse: DuckDBWarehouse):
    """Off-policy evaluation of the serving (promoted) ad policy against the logging policy on the latest day of
    logged feedback: IPS, SNIPS and DR values with bootstrap intervals, the paired uplift and, on generated data,
    the true values and each estimator's error. The DR reward model is fitted on the days before. Skipped while
    no policy is promoted."""
    from ml.bandit import BanditPolicy, BootstrapConfig, RewardModel, evaluate_policies
    from ml.bandit.estimators import LOGGING_POLICY
    from ml.bandit.evaluation import LOGGING

    serving = _registry().promoted()
    if serving is None:
        context.log.warning("no promoted ad policy yet: nothing to evaluate")
        return
    df, features, left_out, unusable = _load_feedback(context, warehouse, config.window_days,
                                                      config.min_rows_per_day)
    split = _split_by_last_day(df) if df is not None else "marts.fct_impressions is empty"
    if isinstance(split, str):
        context.log.warning(f"{split}: nothing to evaluate on")
        return
    days, train_df, test_df = split
    train, test = _feedback(train_df, features), _feedback(test_df, features)
    truth = _truth_for(test_df)
    policy = BanditPolicy.load(serving.path)
    evaluation = evaluate_policies(
        test, {"serving": policy.probabilities(test), LOGGING: LOGGING_POLICY}, "serving", LOGGING,
        RewardModel.fit(train).predict(test),
        BootstrapConfig(n_resamples=config.n_bootstrap, confidence=config.confidence),
        true_click_probs=truth[1] if truth else None, logging_probs=truth[0] if truth else None,
    )
    context.log.info("\n" + evaluation.markdown())
    yield dg.MaterializeResult(metadata={
        "policy_version": serving.version,
        "evaluation_day": days[-1],
        "left_out_days": left_out,
        "unusable_impressions": unusable,
        **_evaluation_metadata(evaluation),
    })
