"""Engagement-health (problematic-use) risk model: who may be using the product compulsively, so that the product
can offer *them* usage reminders and limits.

Intended use: offering reminders, break prompts and usage limits to the user themself, and measuring whether the
product's design helps or harms wellbeing. It must not be used for ad targeting, pricing, ranking content or any
other monetisation or engagement optimisation; a high score is a reason to help someone use the product less.

    features.window_features   per user and day, usage over the preceding window (from marts.fct_user_daily_usage)
    train.train_health_model   LightGBM + Platt calibration on survey answers, split by user
    evaluate                   AUC, logloss, Brier, reliability, the daily-minutes rule, per-segment error rates
"""

from .features import FEATURES, training_rows, window_features
from .model import HealthModel
from .train import HealthTrainingConfig, train_health_model

INTENDED_USE = (
    "Offer usage reminders, break prompts and limits to the user themself. Not for ad targeting, pricing, content "
    "ranking or any other monetisation or engagement optimisation."
)

__all__ = ["FEATURES", "INTENDED_USE", "HealthModel", "HealthTrainingConfig", "train_health_model",
           "training_rows", "window_features"]
