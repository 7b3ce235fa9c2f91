"""Off-policy estimators of a policy's value (expected reward per decision) from logged feedback.

A target policy is given as its probabilities over each logged row's candidates, an (n, k) matrix. With
w_i = pi(a_i | x_i) / propensity_i:

- IPS (inverse propensity scoring): mean(w_i r_i). Unbiased when the propensities are right and every action the
  target may take had a positive logging probability; its variance grows with the weights.
- SNIPS (self-normalised IPS): sum(w_i r_i) / sum(w_i). Slightly biased, much less variance with large weights.
- DR (doubly robust): mean(sum_a pi(a|x_i) q(x_i, a) + w_i (r_i - q(x_i, a_i))), with a reward model q (the
  "direct model"). Unbiased if either the propensities or q are right; lower variance than IPS when q is good.

Confidence intervals are percentile bootstrap intervals over rows (scipy.stats.bootstrap, rows resampled
together for every estimator). The difference of two policies is bootstrapped *paired*, on the same resampled
rows, which is what makes a promotion decision on "new minus current > 0" sharp.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from .feedback import FeedbackError, LoggedFeedback

ESTIMATORS = ("ips", "snips", "dr")


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BootstrapConfig:
    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0


def _check_policy(feedback: LoggedFeedback, probs: np.ndarray, name: str) -> np.ndarray:
    probs = np.asarray(probs, dtype=float)
    if probs.shape != feedback.candidates.shape:
        raise FeedbackError(f"{name}: probabilities of shape {probs.shape}, expected {feedback.candidates.shape} "
                            "(one per logged row and candidate)")
    if (probs < -1e-9).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise FeedbackError(f"{name}: each row must be a probability distribution over its candidates")
    return probs


def _row_terms(feedback: LoggedFeedback, probs: np.ndarray | None, q: np.ndarray | None) -> np.ndarray:
    """(3, n): per-row w*r, w and the DR term (NaN without a reward model). probs None is the logging policy
    itself: all weights are 1 and every estimator returns the observed mean reward (its on-policy value), which
    needs only the logged propensities, not the logging policy's whole distribution."""
    if probs is None:
        r = feedback.reward
        return np.stack([r, np.ones_like(r), r if q is not None else np.full(len(r), np.nan)])
    probs = _check_policy(feedback, probs, "target policy")
    rows = np.arange(len(feedback))
    w = probs[rows, feedback.logged_index] / feedback.propensity
    r = feedback.reward
    if q is None:
        dr = np.full(len(r), np.nan)
    else:
        dr = (probs * q).sum(axis=1) + w * (r - q[rows, feedback.logged_index])
    return np.stack([w * r, w, dr])


def _point(terms: np.ndarray, axis: int = -1) -> np.ndarray:
    """[IPS, SNIPS, DR] from stacked row terms (the first axis holds the three term rows)."""
    wr, w, dr = terms[0], terms[1], terms[2]
    return np.stack([wr.mean(axis=axis), wr.sum(axis=axis) / w.sum(axis=axis), dr.mean(axis=axis)])


def _bootstrap(statistic, arrays: tuple[np.ndarray, ...], config: BootstrapConfig) -> tuple[np.ndarray, np.ndarray]:
    n = len(arrays[0])
    batch = max(1, int(2e7 // max(n, 1)))  # resamples per batch: bounds memory at ~160 MB per array
    result = stats.bootstrap(arrays, statistic, paired=True, vectorized=True, n_resamples=config.n_resamples,
                             confidence_level=config.confidence, method="percentile", batch=batch,
                             rng=np.random.default_rng(config.seed))
    return np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)


def _as_estimates(point: np.ndarray, low: np.ndarray, high: np.ndarray, with_dr: bool) -> dict[str, Estimate]:
    out = {name: Estimate(float(point[i]), float(low[i]), float(high[i])) for i, name in enumerate(ESTIMATORS)}
    if not with_dr:
        del out["dr"]
    return out


LOGGING_POLICY = None  # pass as a policy's probabilities to mean the policy that logged the data


def estimate_value(feedback: LoggedFeedback, probs: np.ndarray | None, q: np.ndarray | None = None,
                   config: BootstrapConfig = BootstrapConfig()) -> dict[str, Estimate]:
    """IPS, SNIPS and (when a reward model's (n, k) predictions q are given) DR estimates of the target policy's
    value, each with a bootstrap confidence interval."""
    terms = _row_terms(feedback, probs, q)
    low, high = _bootstrap(lambda wr, w, dr, axis: _point(np.stack([wr, w, dr]), axis), tuple(terms), config)
    return _as_estimates(_point(terms), low, high, q is not None)


def point_estimates(feedback: LoggedFeedback, probs: np.ndarray | None,
                    q: np.ndarray | None = None) -> dict[str, float]:
    """The estimates without intervals (cheap: for simulations that repeat an estimate many times)."""
    point = _point(_row_terms(feedback, probs, q))
    return {name: float(point[i]) for i, name in enumerate(ESTIMATORS) if q is not None or name != "dr"}


def row_contributions(feedback: LoggedFeedback, probs: np.ndarray | None,
                      q: np.ndarray | None) -> dict[str, np.ndarray]:
    """Per-row terms whose mean is the IPS / DR estimate: their variance / n is the estimator's variance, which
    is how the estimators' precision is compared on one log."""
    wr, _, dr = _row_terms(feedback, probs, q)
    return {"ips": wr, "dr": dr}


def estimate_uplift(feedback: LoggedFeedback, new_probs: np.ndarray, current_probs: np.ndarray | None,
                    q: np.ndarray | None = None, config: BootstrapConfig = BootstrapConfig()) -> dict[str, Estimate]:
    """Value of the new policy minus the current one (LOGGING_POLICY: the one that logged the data), per
    estimator, with a paired bootstrap interval."""
    new = _row_terms(feedback, new_probs, q)
    current = _row_terms(feedback, current_probs, q)

    def difference(*arrays, axis):
        return _point(np.stack(arrays[:3]), axis) - _point(np.stack(arrays[3:]), axis)

    low, high = _bootstrap(difference, (*new, *current), config)
    return _as_estimates(_point(new) - _point(current), low, high, q is not None)


def uniform_policy_probs(feedback: LoggedFeedback) -> np.ndarray:
    return np.full(feedback.candidates.shape, 1.0 / feedback.n_candidates)


def true_value(probs: np.ndarray, true_reward_probs: np.ndarray) -> float:
    """A policy's true value on the logged contexts when the true expected reward of every candidate is known
    (generated data): mean over rows of sum_a pi(a|x) E[r | x, a]."""
    return float((np.asarray(probs) * np.asarray(true_reward_probs)).sum(axis=1).mean())
