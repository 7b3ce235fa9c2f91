"""Ad serving: the exploring policy that chose each logged ad, and the true click / purchase model.

The policy logs the probability of its choice (`propensity`) and explores with an epsilon floor, so off-policy
estimators have support for every candidate. The click model is deliberately richer than what the policy knows
(user click bias, slot, context), which is the signal a CTR model should recover.
"""

from __future__ import annotations

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


def serve_ads(world: World, rng: np.random.Generator, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pick one ad per request from a few random candidates; return (ad, probability of that pick)."""
    n = len(users)
    candidates = _distinct_candidates(rng, n, world.n_ads)
    score = world.ad_appeal_estimate[candidates] + 0.6 * world.affinity(
        np.repeat(users, N_CANDIDATES), world.ad_topic[candidates].ravel()
    ).reshape(n, N_CANDIDATES)
    score = score / POLICY_TEMPERATURE
    softmax = np.exp(score - score.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    probs = (1.0 - EPSILON) * softmax + EPSILON / N_CANDIDATES
    pick = (np.cumsum(probs, axis=1) < rng.random(n)[:, None]).sum(axis=1).clip(max=N_CANDIDATES - 1)
    rows = np.arange(n)
    return candidates[rows, pick], probs[rows, pick]


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
