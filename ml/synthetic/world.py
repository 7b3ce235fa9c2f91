"""The simulated world: the users, content items and ads that every generated day shares.

The world depends only on the seed and the volume, never on the day, so a user's tastes, an item's quality and
an ad's appeal are stable across days. That stability is what a model trained on day D can learn and then
exploit on day D+1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

TOPICS = (
    "sports", "music", "gaming", "news", "tech", "fashion",
    "food", "travel", "finance", "comedy", "beauty", "education",
)
DEVICES = ("ios", "android", "web")
NETWORKS = ("5g", "4g", "wifi")
COUNTRIES = ("US", "IN", "BR", "GB", "DE", "ID", "MX", "FR", "JP", "NG", "TR", "PH")
COUNTRY_WEIGHTS = (0.24, 0.16, 0.10, 0.08, 0.07, 0.07, 0.06, 0.05, 0.05, 0.05, 0.04, 0.03)
DEVICE_WEIGHTS = (0.38, 0.44, 0.18)

# Stream id that keeps the world's random numbers apart from the per-day streams.
_WORLD_STREAM = 0x5EED
_SPONSOR_STREAM = 0x5B0C  # its own stream, so adding sponsorship left every other draw as it was
_HABIT_STREAM = 0x4AB1  # the same for the compulsive-use trait
# How strongly compulsivity (a standard normal trait) pulls a user back to the app: session rate multiplier
# exp(HABIT_ACTIVITY_EFFECT * compulsivity). Modest next to the spread of ordinary activity (lognormal sigma 1.1).
HABIT_ACTIVITY_EFFECT = 0.35
SPONSORED_ITEM_SHARE = 0.2


@dataclass(eq=False)
class World:
    """Latent truth about the population. Index i of a user/item/ad array is that entity's number."""

    seed: int
    topic_popularity: np.ndarray  # (topics,) share of attention each topic gets overall
    user_interest: np.ndarray  # (users, topics) Dirichlet tastes, rows sum to 1
    user_activity: np.ndarray  # heavy-tailed relative activity: who shows up and how often
    user_device: np.ndarray  # home device (index into DEVICES)
    user_network_mix: np.ndarray  # (users, 3) probability of each network per session
    user_geo: np.ndarray  # index into COUNTRIES
    user_attitude: np.ndarray  # general tone of a user's comments: < 0 grumpy, > 0 upbeat
    user_click_bias: np.ndarray  # the user's own tendency to click ads (logit units)
    user_compulsivity: np.ndarray  # latent problematic-use trait, standard normal: drives usage and the survey
    item_topic: np.ndarray
    item_quality: np.ndarray  # in (0, 1)
    item_popularity: np.ndarray  # how often the feed serves an item within its topic
    ad_campaign: np.ndarray
    ad_topic: np.ndarray
    ad_appeal: np.ndarray  # true attractiveness of the creative (logit units)
    ad_appeal_estimate: np.ndarray  # the serving policy's noisy belief about the appeal
    campaign_topic: np.ndarray
    item_campaign: np.ndarray  # the campaign sponsoring the item (branded content), -1 for organic items
    # Cumulative distributions turn "sample by weight" into one vectorised searchsorted.
    _activity_cdf: np.ndarray = field(init=False, repr=False)
    _interest_cdf: np.ndarray = field(init=False, repr=False)
    _network_cdf: np.ndarray = field(init=False, repr=False)
    _items_by_topic: list[np.ndarray] = field(init=False, repr=False)
    _item_cdf_by_topic: list[np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        session_rate = self.user_activity * np.exp(HABIT_ACTIVITY_EFFECT * self.user_compulsivity)
        self._activity_cdf = np.cumsum(session_rate) / session_rate.sum()
        self._interest_cdf = np.cumsum(self.user_interest, axis=1, dtype=np.float64)
        self._network_cdf = np.cumsum(self.user_network_mix, axis=1, dtype=np.float64)
        self._items_by_topic = [np.flatnonzero(self.item_topic == t) for t in range(len(TOPICS))]
        self._item_cdf_by_topic = []
        for items in self._items_by_topic:
            weights = np.cumsum(self.item_popularity[items], dtype=np.float64)
            self._item_cdf_by_topic.append(weights / weights[-1])

    @property
    def n_users(self) -> int:
        return len(self.user_activity)

    @property
    def n_items(self) -> int:
        return len(self.item_topic)

    @property
    def n_ads(self) -> int:
        return len(self.ad_topic)

    def sample_users(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Users weighted by activity: heavy users open many sessions, most users few."""
        return _searchsorted_clipped(self._activity_cdf, rng.random(n))

    def sample_interest_topics(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        """A topic drawn from each user's own tastes."""
        u = rng.random(len(users))
        return (self._interest_cdf[users] < u[:, None]).sum(axis=1).clip(max=len(TOPICS) - 1).astype(np.int8)

    def sample_popular_topics(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """A topic drawn from overall popularity: what the feed pushes regardless of the user."""
        return rng.choice(len(TOPICS), size=n, p=self.topic_popularity).astype(np.int8)

    def sample_items(self, rng: np.random.Generator, topics: np.ndarray) -> np.ndarray:
        """An item of each requested topic, popular items more often."""
        items = np.empty(len(topics), dtype=np.int32)
        u = rng.random(len(topics))
        for t in range(len(TOPICS)):
            rows = np.flatnonzero(topics == t)
            picks = _searchsorted_clipped(self._item_cdf_by_topic[t], u[rows])
            items[rows] = self._items_by_topic[t][picks]
        return items

    def sample_networks(self, rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
        u = rng.random(len(users))
        return (self._network_cdf[users] < u[:, None]).sum(axis=1).clip(max=len(NETWORKS) - 1).astype(np.int8)

    def affinity(self, users: np.ndarray, topics: np.ndarray) -> np.ndarray:
        """How much a user cares about a topic, centred so an average topic scores 0 (range about -0.7..1.9)."""
        share = self.user_interest[users, topics].astype(np.float64)
        return np.log1p(len(TOPICS) * share) - np.log(2.0)

    # ---- ground truth tables -------------------------------------------------------------------------------

    def users_table(self) -> pa.Table:
        columns = {
            "user_id": format_ids(USER_ID_FORMAT, np.arange(self.n_users)),
            "activity": self.user_activity,
            "device": np.asarray(DEVICES)[self.user_device],
            "geo": np.asarray(COUNTRIES)[self.user_geo],
            "attitude": self.user_attitude,
            "click_propensity": self.user_click_bias,
            "compulsivity": self.user_compulsivity,
        }
        for t, topic in enumerate(TOPICS):
            columns[f"interest_{topic}"] = self.user_interest[:, t]
        for k, network in enumerate(NETWORKS):
            columns[f"network_{network}"] = self.user_network_mix[:, k]
        return pa.table(columns)

    def items_table(self) -> pa.Table:
        return pa.table({
            "item_id": format_ids(ITEM_ID_FORMAT, np.arange(self.n_items)),
            "topic": np.asarray(TOPICS)[self.item_topic],
            "quality": self.item_quality,
            "popularity": self.item_popularity,
            "sponsor_campaign_id": [CAMPAIGN_ID_FORMAT % c if c >= 0 else None for c in self.item_campaign.tolist()],
        })

    def ads_table(self) -> pa.Table:
        return pa.table({
            "ad_id": format_ids(AD_ID_FORMAT, np.arange(self.n_ads)),
            "campaign_id": format_ids(CAMPAIGN_ID_FORMAT, self.ad_campaign),
            "topic": np.asarray(TOPICS)[self.ad_topic],
            "appeal": self.ad_appeal,
            "appeal_estimate": self.ad_appeal_estimate,
        })


def world_sizes(events_per_day: int) -> dict[str, int]:
    """Population sizes grow with the volume so per-user histories stay realistic at any scale."""
    n_users = max(200, events_per_day // 40)
    n_ads = int(np.clip(events_per_day // 1000, 50, 2000))
    return {
        "users": n_users,
        "items": max(100, n_users // 4),
        "ads": n_ads,
        "campaigns": max(5, n_ads // 10),
    }


@lru_cache(maxsize=4)
def build_world(seed: int, events_per_day: int, n_items: int | None = None) -> World:
    """The world for (seed, volume); cached because every day of a run shares it. `n_items` overrides the catalogue
    size that the volume implies (benchmarks that need a given users x items shape)."""
    rng = np.random.default_rng([seed, _WORLD_STREAM])
    sizes = world_sizes(events_per_day)
    if n_items is not None:
        sizes["items"] = n_items
    n_topics = len(TOPICS)

    topic_popularity = rng.dirichlet(np.full(n_topics, 8.0))
    n_users = sizes["users"]
    user_interest = rng.dirichlet(0.4 * n_topics * topic_popularity, size=n_users).astype(np.float32)
    user_activity = rng.lognormal(0.0, 1.1, size=n_users)
    user_device = rng.choice(len(DEVICES), size=n_users, p=DEVICE_WEIGHTS).astype(np.int8)
    user_network_mix = rng.dirichlet([1.5, 2.0, 3.0], size=n_users).astype(np.float32)
    user_geo = rng.choice(len(COUNTRIES), size=n_users, p=COUNTRY_WEIGHTS).astype(np.int8)
    user_attitude = rng.normal(0.2, 0.8, size=n_users).astype(np.float32)
    user_click_bias = rng.normal(0.0, 0.5, size=n_users).astype(np.float32)

    n_items = sizes["items"]
    item_topic = rng.choice(n_topics, size=n_items, p=topic_popularity).astype(np.int8)
    item_topic[:n_topics] = np.arange(n_topics)  # every topic has content
    item_quality = rng.beta(2.5, 2.5, size=n_items).astype(np.float32)
    item_popularity = (item_quality**2 * rng.lognormal(0.0, 1.0, size=n_items)).astype(np.float32)

    n_campaigns, n_ads = sizes["campaigns"], sizes["ads"]
    campaign_topic = rng.choice(n_topics, size=n_campaigns, p=topic_popularity).astype(np.int8)
    campaign_appeal = rng.normal(0.0, 0.4, size=n_campaigns)
    ad_campaign = rng.integers(0, n_campaigns, size=n_ads).astype(np.int32)
    ad_campaign[:n_campaigns] = np.arange(n_campaigns)  # every campaign has an ad
    ad_appeal = (campaign_appeal[ad_campaign] + rng.normal(0.0, 0.35, size=n_ads)).astype(np.float32)
    ad_appeal_estimate = (ad_appeal + rng.normal(0.0, 0.3, size=n_ads)).astype(np.float32)
    item_campaign = _sponsorships(np.random.default_rng([seed, _SPONSOR_STREAM]), item_topic, campaign_topic)

    return World(
        seed=seed,
        topic_popularity=topic_popularity,
        user_interest=user_interest,
        user_activity=user_activity,
        user_device=user_device,
        user_network_mix=user_network_mix,
        user_geo=user_geo,
        user_attitude=user_attitude,
        user_click_bias=user_click_bias,
        user_compulsivity=np.random.default_rng([seed, _HABIT_STREAM]).normal(0.0, 1.0, size=n_users),
        item_topic=item_topic,
        item_quality=item_quality,
        item_popularity=item_popularity,
        ad_campaign=ad_campaign,
        ad_topic=campaign_topic[ad_campaign],
        ad_appeal=ad_appeal,
        ad_appeal_estimate=ad_appeal_estimate,
        campaign_topic=campaign_topic,
        item_campaign=item_campaign,
    )


def _sponsorships(rng: np.random.Generator, item_topic: np.ndarray, campaign_topic: np.ndarray) -> np.ndarray:
    """Campaigns also sponsor content (branded posts): about SPONSORED_ITEM_SHARE of the items, each by a
    campaign of its own topic when one exists. Comments on those items carry the campaign, which is how a brand
    team follows the sentiment around its campaign."""
    item_campaign = np.full(len(item_topic), -1, dtype=np.int32)
    sponsored = np.flatnonzero(rng.random(len(item_topic)) < SPONSORED_ITEM_SHARE)
    for item in sponsored:
        same_topic = np.flatnonzero(campaign_topic == item_topic[item])
        candidates = same_topic if len(same_topic) else np.arange(len(campaign_topic))
        item_campaign[item] = rng.choice(candidates)
    return item_campaign


# printf-style patterns shared by Python (world tables) and DuckDB (event files), so ids always match.
USER_ID_FORMAT = "u%06d"
ITEM_ID_FORMAT = "i%05d"
AD_ID_FORMAT = "a%04d"
CAMPAIGN_ID_FORMAT = "c%03d"


def format_ids(pattern: str, index: np.ndarray) -> list[str]:
    return [pattern % i for i in np.asarray(index).tolist()]


def _searchsorted_clipped(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.searchsorted(cdf, u, side="right").clip(max=len(cdf) - 1)
