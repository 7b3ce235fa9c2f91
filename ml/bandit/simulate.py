"""Logged feedback drawn straight from the generator's serving policy and click model, with its ground truth.

The same policy (`ml.synthetic.ads.serve_ads`) and true click model (`click_probability`) that write the
synthetic landing files, without sessions or files: fast enough for tests and benchmarks that need many samples
of any size. Besides the logged table it returns, for every row and candidate, the logging policy's probability
and the true click probability, so the true value of any policy on these contexts is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.synthetic import ads as ad_model
from ml.synthetic.world import AD_ID_FORMAT, CAMPAIGN_ID_FORMAT, DEVICES, NETWORKS, TOPICS, World, build_world

from .ad_schema import AD_COLUMNS
from .feedback import LoggedFeedback, from_frame

_SIMULATION_STREAM = 0xBA4D  # its own random stream: never shares draws with the generated days


@dataclass
class SimulatedLog:
    table: pd.DataFrame  # the logged table, as a client would log it (context, ad_id, candidates, ...)
    feedback: LoggedFeedback
    logging_probs: np.ndarray  # (n, k) the serving policy's probability of each candidate
    true_click_probs: np.ndarray  # (n, k) the true click probability of each candidate in its context

    def take(self, rows: np.ndarray) -> "SimulatedLog":
        return SimulatedLog(self.table.iloc[rows].reset_index(drop=True), self.feedback.take(rows),
                            self.logging_probs[rows], self.true_click_probs[rows])


def ad_features(world: World) -> dict[str, dict[str, str]]:
    """Action features of every ad: its topic and campaign (what the ads mart knows about an ad)."""
    return {AD_ID_FORMAT % a: {"topic": TOPICS[world.ad_topic[a]], "campaign": CAMPAIGN_ID_FORMAT % world.ad_campaign[a]}
            for a in range(world.n_ads)}


def user_segments(world: World, users: np.ndarray) -> np.ndarray:
    """A user's segment: the topic they care most about (the pipeline's `user_top_topic`)."""
    return np.asarray(TOPICS)[world.user_interest[users].argmax(axis=1)]


def simulate_logged_feedback(n: int, seed: int = 0, events_per_day: int = 100_000,
                             replicate: int = 0) -> SimulatedLog:
    """n ad requests served by the generator's exploring policy in the world of (seed, events_per_day);
    `replicate` draws another independent log from the same world."""
    world = build_world(seed, events_per_day)
    rng = np.random.default_rng([seed, _SIMULATION_STREAM, replicate])
    users = world.sample_users(rng, n)
    served = ad_model.serve_ads(world, rng, users)
    slots = ad_model.sample_slots(rng, n)
    devices = world.user_device[users]
    networks = world.sample_networks(rng, users)
    hours = rng.integers(0, 24, size=n)
    truth = ad_model.candidate_click_probabilities(world, served.candidates, users, slots, devices, networks, hours)
    picked = (served.candidates == served.ad[:, None]).argmax(axis=1)
    clicked = rng.random(n) < truth[np.arange(n), picked]
    ad_ids = np.asarray([AD_ID_FORMAT % a for a in range(world.n_ads)], dtype=object)
    table = pd.DataFrame({
        "segment": user_segments(world, users), "slot": slots, "device": np.asarray(DEVICES)[devices],
        "network": np.asarray(NETWORKS)[networks], "hour": hours, "ad_id": ad_ids[served.ad],
        "candidates": list(ad_ids[served.candidates]), "propensity": served.propensity,
        "is_clicked": clicked.astype(int),
    })
    feedback = from_frame(table, AD_COLUMNS, action_features=ad_features(world))
    return SimulatedLog(table, feedback, served.candidate_probs, truth)
