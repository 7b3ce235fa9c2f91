"""Learn a policy on earlier logged rows and evaluate it, the serving policy and the logging policy on later ones.

The split is by time (or by row order for a table without one): the policy and the DR reward model only ever
see rows before the evaluation rows, as they would in production. On generated data, where every candidate's
true click probability is known, each policy's true value and each estimator's error are reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .estimators import LOGGING_POLICY, BootstrapConfig, Estimate, estimate_uplift, estimate_value, true_value
from .feedback import LoggedFeedback
from .policy import BanditPolicy, PolicyConfig
from .reward_model import RewardModel, RewardModelConfig

LOGGING = "logging"


@dataclass
class PolicyEvaluation:
    """Estimates per policy and estimator, and the paired uplift of `candidate` over `baseline`."""

    rows: int
    candidate: str
    baseline: str
    estimates: dict[str, dict[str, Estimate]]
    uplift: dict[str, Estimate]
    true_values: dict[str, float] = field(default_factory=dict)  # generated data only

    def errors(self) -> dict[str, dict[str, float]]:
        """Estimate minus true value, per policy and estimator (generated data only)."""
        return {policy: {name: e.value - self.true_values[policy] for name, e in by_estimator.items()}
                for policy, by_estimator in self.estimates.items() if policy in self.true_values}

    @property
    def true_uplift(self) -> float | None:
        if self.candidate in self.true_values and self.baseline in self.true_values:
            return self.true_values[self.candidate] - self.true_values[self.baseline]
        return None

    def to_dict(self) -> dict:
        out = {"rows": self.rows, "candidate": self.candidate, "baseline": self.baseline,
               "estimates": {p: {k: e.to_dict() for k, e in by.items()} for p, by in self.estimates.items()},
               "uplift": {k: e.to_dict() for k, e in self.uplift.items()}}
        if self.true_values:
            out.update(true_values=self.true_values, errors=self.errors(), true_uplift=self.true_uplift)
        return out

    def markdown(self) -> str:
        """One row per policy and the uplift: estimate [interval] per estimator, and the truth when known."""
        names = list(next(iter(self.estimates.values())))
        head = "| policy | " + " | ".join(names) + (" | true value |" if self.true_values else " |")
        lines = [head, "|" + "---|" * (len(names) + 1 + bool(self.true_values))]
        rows = {**self.estimates, f"uplift {self.candidate} - {self.baseline}": self.uplift}
        truths = {**self.true_values, f"uplift {self.candidate} - {self.baseline}": self.true_uplift}
        for policy, by in rows.items():
            cells = [f"{by[n].value:.5f} [{by[n].ci_low:.5f}, {by[n].ci_high:.5f}]" for n in names]
            truth = truths.get(policy)
            tail = (f" | {truth:.5f} |" if truth is not None else " | |") if self.true_values else " |"
            lines.append(f"| {policy} | " + " | ".join(cells) + tail)
        return "\n".join(lines)


def evaluate_policies(feedback: LoggedFeedback, policies: dict[str, np.ndarray | None], candidate: str,
                      baseline: str, q: np.ndarray | None, bootstrap: BootstrapConfig = BootstrapConfig(),
                      true_click_probs: np.ndarray | None = None,
                      logging_probs: np.ndarray | None = None) -> PolicyEvaluation:
    """policies: name -> (n, k) probabilities, or LOGGING_POLICY for the policy that logged the rows."""
    estimates = {name: estimate_value(feedback, probs, q, bootstrap) for name, probs in policies.items()}
    uplift = estimate_uplift(feedback, policies[candidate], policies[baseline], q, bootstrap)
    truths = {}
    if true_click_probs is not None:
        for name, probs in policies.items():
            if probs is not None:
                truths[name] = true_value(probs, true_click_probs)
            elif logging_probs is not None:
                truths[name] = true_value(logging_probs, true_click_probs)
    return PolicyEvaluation(len(feedback), candidate, baseline, estimates, uplift, truths)


@dataclass
class LearnedPolicy:
    policy: BanditPolicy
    reward_model: RewardModel
    evaluation: PolicyEvaluation


def learn_and_evaluate(train: LoggedFeedback, test: LoggedFeedback, *, current: BanditPolicy | None = None,
                       policy_config: PolicyConfig = PolicyConfig(),
                       reward_config: RewardModelConfig = RewardModelConfig(),
                       bootstrap: BootstrapConfig = BootstrapConfig(),
                       true_click_probs: np.ndarray | None = None,
                       logging_probs: np.ndarray | None = None) -> LearnedPolicy:
    """Train a policy and the DR reward model on `train`; evaluate the new policy against `current` (the serving
    policy; None: the logging policy) on `test`."""
    policy = BanditPolicy.train(train, policy_config)
    reward_model = RewardModel.fit(train, reward_config)
    policies = {"new": policy.probabilities(test), LOGGING: LOGGING_POLICY}
    baseline = LOGGING
    if current is not None:
        policies["current"] = current.probabilities(test)
        baseline = "current"
    evaluation = evaluate_policies(test, policies, "new", baseline, reward_model.predict(test), bootstrap,
                                   true_click_probs, logging_probs)
    return LearnedPolicy(policy, reward_model, evaluation)
