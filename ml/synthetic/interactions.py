"""Views only, straight from the world: user-item interaction tables at scales the full event generator would
take hours to write (recommender benchmarks and tests). Users, items and dwell are drawn exactly as the full
generator draws its views (sessions.sample_viewed_items / sample_dwell_ms), so the same oracle applies."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .sessions import SEARCH_SHARE, sample_dwell_ms, sample_viewed_items
from .world import ITEM_ID_FORMAT, TOPICS, USER_ID_FORMAT, World, format_ids

_INTERACTIONS_STREAM = 0x1A7E


def simulate_view_interactions(world: World, days: int, views_per_day: int, seed: int,
                               start: date = date(2026, 3, 1)) -> pd.DataFrame:
    """One row per (user, item, day) with `attention` = engaged minutes (dwell capped at 10 min per view), the
    item's `topic`, in ml.recommend's canonical shape."""
    rng = np.random.default_rng([seed, _INTERACTIONS_STREAM])
    frames = []
    for offset in range(days):
        users = world.sample_users(rng, views_per_day)
        topic, item = sample_viewed_items(world, rng, users, rng.random(views_per_day) < SEARCH_SHARE)
        quality = 2.0 * world.item_quality[item] - 1.0
        dwell = sample_dwell_ms(rng, world.affinity(users, topic), quality)
        frame = pd.DataFrame({"u": users, "i": item, "minutes": np.minimum(dwell, 600_000) / 60_000.0})
        frame = frame.groupby(["u", "i"], as_index=False, sort=True)["minutes"].sum()
        frame["day"] = pd.Timestamp(start + timedelta(days=offset))
        frames.append(frame)
    views = pd.concat(frames, ignore_index=True)
    return pd.DataFrame({
        "user": format_ids(USER_ID_FORMAT, views["u"].to_numpy()),
        "item": format_ids(ITEM_ID_FORMAT, views["i"].to_numpy()),
        "day": views["day"],
        "attention": views["minutes"],
        "topic": np.asarray(TOPICS, dtype=object)[world.item_topic[views["i"].to_numpy()]],
    })
