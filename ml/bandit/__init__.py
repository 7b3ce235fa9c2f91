"""Ad-slot optimisation from logged bandit feedback: policy learning (Vowpal Wabbit) and off-policy evaluation
(IPS, SNIPS, doubly robust, bootstrap intervals). Plain Python, no Dagster."""

from .estimators import LOGGING_POLICY, BootstrapConfig, Estimate, estimate_uplift, estimate_value, true_value
from .evaluation import PolicyEvaluation, evaluate_policies, learn_and_evaluate
from .feedback import FeedbackColumns, FeedbackError, LoggedFeedback, from_frame, read_table
from .policy import BanditPolicy, PolicyConfig
from .reward_model import RewardModel, RewardModelConfig

__all__ = ["LOGGING_POLICY", "BootstrapConfig", "Estimate", "estimate_uplift", "estimate_value", "true_value",
           "PolicyEvaluation", "evaluate_policies", "learn_and_evaluate", "FeedbackColumns", "FeedbackError",
           "LoggedFeedback", "from_frame", "read_table", "BanditPolicy", "PolicyConfig", "RewardModel",
           "RewardModelConfig"]
