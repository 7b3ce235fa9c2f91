"""Ad serving: the exploring policy that chose each logged ad, and the true click / purchase model.

The policy logs the probability of its choice (`propensity`) and explores with an epsilon floor, so off-policy
estimators have support for every candidate. The click model is deliberately richer than what the policy knows
(user click bias, slot, context), which is the signal a CTR model should recover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .world import World

N_CANDIDATES = 4
EPSILON = 0.10  # share of traffic spread uniformly over the candidates
POLICY_TEMPERATURE = 0.8
SLOT_WEIGHTS = np.array([0.40, 0.30, 0.20, 0.10])  # slots 1..4: the top slot is filled most often

BASE_LOGIT = -3.55  # overall CTR lands around 3%
APPEAL_WEIGHT = 0.9
AFFINITY_WEIGHT = 0.8
SLOT_EFFECT = np.array([0.0, 0.0, -0.35, -0.6, -0.85])  # indexed by slot; slot 1 best
DEVICE_EFFECT = np.array([0.10, 0.0, -0.25])  # ios, android, web
NETWORK_EFFECT = np.array([0.05, -0.15, 0.05])  # 5g, 4g, wifi (slow networks lose clicks)
HOUR_EFFECT = np.array(
    [-0.10, -0.15, -0.20, -0.20, -0.20, -0.15, -0.05, 0.0, 0.0, 0.0, 0.0, 0.05,
     0.05, 0.0, 0.0, 0.0, 0.0, 0.05, 0.10, 0.15, 0.20, 0.20, 0.10, 0.0]
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def sample_slots(rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.choice(len(SLOT_WEIGHTS), size=n, p=SLOT_WEIGHTS) + 1).astype(np.int8)


def serve_ads(world: World, rng: np.random.Generator, users: np.ndarray) -> Served:
    """Pick one ad per request from a few random candidates, keeping what an off-policy evaluation needs: the
    candidates, the policy's probability of each and the pick's position among them."""
    n = len(users)
    candidates = _distinct_candidates(rng, n, world.n_ads)
    probs = logging_policy_probabilities(world, users, candidates)
    pick = (np.cumsum(probs, axis=1) < rng.random(n)[:, None]).sum(axis=1).clip(max=N_CANDIDATES - 1)
    rows = np.arange(n)
    return Served(ad=candidates[rows, pick], propensity=probs[rows, pick], candidates=candidates,
                  candidate_probs=probs)


@dataclass
class Served:
    ad: np.ndarray  # (n,) the chosen ad
    propensity: np.ndarray  # (n,) probability with which it was chosen
    candidates: np.ndarray  # (n, N_CANDIDATES) the ads the policy chose from
    candidate_probs: np.ndarray  # (n, N_CANDIDATES) the policy's probability of each candidate


def logging_policy_probabilities(world: World, users: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(n, N_CANDIDATES) choice probabilities of the serving policy: a softmax over its noisy belief of the ads'
    appeal plus the user's topic affinity, mixed with EPSILON of uniform exploration."""
    n, k = candidates.shape
    score = world.ad_appeal_estimate[candidates] + 0.6 * world.affinity(
        np.repeat(users, k), world.ad_topic[candidates].ravel()
    ).reshape(n, k)
    score = score / POLICY_TEMPERATURE
    softmax = np.exp(score - score.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    return (1.0 - EPSILON) * softmax + EPSILON / k


def click_probability(
    world: World,
    users: np.ndarray,
    ads: np.ndarray,
    slots: np.ndarray,
    devices: np.ndarray,
    networks: np.ndarray,
    hours: np.ndarray,
) -> np.ndarray:
    """The true probability that this impression gets clicked."""
    logit = (
        BASE_LOGIT
        + APPEAL_WEIGHT * world.ad_appeal[ads]
        + AFFINITY_WEIGHT * world.affinity(users, world.ad_topic[ads])
        + SLOT_EFFECT[slots]
        + DEVICE_EFFECT[devices]
        + NETWORK_EFFECT[networks]
        + HOUR_EFFECT[hours]
        + world.user_click_bias[users]
    )
    return sigmoid(logit)


def candidate_click_probabilities(world: World, candidates: np.ndarray, users: np.ndarray, *context) -> np.ndarray:
    """(n, k) true click probability of every candidate ad in each request's context (slot, device, network,
    hour): the ground truth of any policy's value on logged requests."""
    n, k = candidates.shape
    repeat = [np.repeat(c, k) for c in (users, *context)]
    return click_probability(world, repeat[0], candidates.ravel(), *repeat[1:]).reshape(n, k)


def purchase_probability(world: World, users: np.ndarray, ads: np.ndarray) -> np.ndarray:
    """Chance that a click converts: appealing, relevant ads convert better."""
    return sigmoid(-2.6 + 0.6 * world.ad_appeal[ads] + 0.5 * world.affinity(users, world.ad_topic[ads]))


def _distinct_candidates(rng: np.random.Generator, n: int, n_ads: int) -> np.ndarray:
    """(n, N_CANDIDATES) ad indices without repeats inside a row (redraw clashes; they are rare)."""
    candidates = rng.integers(0, n_ads, size=(n, N_CANDIDATES))
    while True:
        ordered = np.sort(candidates, axis=1)
        clash = (np.diff(ordered, axis=1) == 0).any(axis=1)
        if not clash.any():
            return candidates
        candidates[clash] = rng.integers(0, n_ads, size=(int(clash.sum()), N_CANDIDATES))
