"""The attnflow code location: one Definitions merged from the domain modules under defs/."""

import dagster as dg

from orchestration.defs.dbt.assets import dbt_daily_models, dbt_whole_table_models
from orchestration.defs.ingest.assets import raw_annotations, raw_events, raw_surveys
from orchestration.defs.ingest.sensors import landing_sensor
from orchestration.defs.models.ad_policy import ad_policy, ad_policy_evaluation
from orchestration.defs.models.comments import comment_classifier, comment_sentiment, sentiment_trends
from orchestration.defs.models.ctr import ctr_model, ctr_monitoring, ctr_scores
from orchestration.defs.models.health import health_model, health_segment_error_gap, user_health_scores
from orchestration.defs.models.recommendations import recommender_model, user_recommendations
from orchestration.defs.ops.alerts import run_failure_alert
from orchestration.defs.ops.freshness import with_daily_freshness
from orchestration.defs.ops.jobs import daily_job
from orchestration.defs.ops.schedules import daily_schedule
from orchestration.defs.quality.checks import with_quality_checks
from orchestration.defs.resources import build_resources

defs = dg.Definitions(
    # The marts and scored outputs declare how fresh they must be (a missed daily run shows as stale in the UI).
    assets=with_daily_freshness([raw_events, raw_annotations, raw_surveys, dbt_daily_models, dbt_whole_table_models,
                                 ctr_model, ctr_scores, ctr_monitoring, comment_classifier, comment_sentiment,
                                 sentiment_trends, recommender_model, user_recommendations, ad_policy,
                                 ad_policy_evaluation, health_model, user_health_scores]),
    asset_checks=[health_segment_error_gap],
    jobs=[daily_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor, run_failure_alert],
    resources=build_resources(),
)

# Great Expectations suites (expectations/*.json) as asset checks on the assets above that they are bound to.
defs = with_quality_checks(defs)
