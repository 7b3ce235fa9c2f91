"""Vectorised simulation of sessions: who is active when, what they view, and which ads they see and click.

A session is a run of feed "steps". Each step is one content view, optionally preceded by a search and
followed by a like / share / comment and an in-feed ad impression (which may be clicked and lead to a
purchase). Step durations are summed per session to get timestamps; steps that would spill over midnight are
dropped, so a day's events stay inside that day.
"""

from __future__ import annotations

import random
from datetime import date

import numpy as np

from . import ads as ad_model
from .comments import comment_texts, search_queries, sentiment_from_score
from .events import TYPE_CODE, Events
from .world import DEVICES, HABIT_ACTIVITY_EFFECT, World

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR

# Share of session starts per UTC hour: quiet night, morning and lunch bumps, evening peak.
HOUR_WEIGHTS = np.array(
    [1.6, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.6, 3.4, 3.2, 3.0, 3.4,
     4.2, 4.0, 3.6, 3.6, 4.0, 4.8, 6.0, 7.2, 8.0, 7.6, 6.0, 3.4]
)
WEEKDAY_VOLUME = (0.95, 0.93, 0.95, 0.98, 1.04, 1.09, 1.06)  # Monday .. Sunday

MEAN_VIEWS_PER_SESSION = 6.0
EVENTS_PER_SESSION = 9.1  # measured average (views + searches + engagement + ads), used to size a day
LATE_EVENTS_PER_SESSION = 3.0  # the same for the short late mini-sessions
SESSION_HINT_SHARE = 0.95  # clients without a session id leave session_hint empty
DEVICE_SWITCH_SHARE = 0.12  # sessions not on the user's home device
SEARCH_SHARE = 0.06  # views reached through a search
PERSONALISED_SHARE = 0.70  # views the feed picked from the user's tastes (rest: generally popular)
AD_SHARE = 0.30  # views followed by an in-feed ad

# Compulsive use (World.user_compulsivity, standard normal) shows in usage, modestly: more sessions (world.py),
# longer sessions and sessions in the small hours. What a user views is left to their tastes (the recommender's
# oracle, item_view_probability, stays exact). The session-length factor is centred so
# that the average session (sessions are drawn more often from compulsive users) keeps MEAN_VIEWS_PER_SESSION.
HABIT_SESSION_LENGTH_EFFECT = 0.25
_HABIT_LENGTH_CENTRE = HABIT_SESSION_LENGTH_EFFECT * HABIT_ACTIVITY_EFFECT + HABIT_SESSION_LENGTH_EFFECT**2 / 2
SMALL_HOURS = (0, 1, 2, 3)  # UTC hours a compulsive user's session may move to


def day_start_ms(day: date) -> int:
    return (day.toordinal() - date(1970, 1, 1).toordinal()) * MS_PER_DAY


def day_event_target(day: date, events_per_day: int) -> int:
    """Volume of a day: the nominal volume bent by the weekday (weekends are busier)."""
    return int(round(events_per_day * WEEKDAY_VOLUME[day.weekday()]))


def sample_session_starts(rng: np.random.Generator, n: int, start_ms: int, hour_weights: np.ndarray) -> np.ndarray:
    hours = rng.choice(len(hour_weights), size=n, p=hour_weights / hour_weights.sum())
    return start_ms + hours * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=n)


def simulate_day_sessions(world: World, rng: np.random.Generator, n_sessions: int, day: date,
                          first_session: int) -> Events:
    """Ordinary sessions of `day`: start hours follow the daily profile."""
    users = world.sample_users(rng, n_sessions)
    starts = sample_session_starts(rng, n_sessions, day_start_ms(day), HOUR_WEIGHTS)
    habit = world.user_compulsivity[users]
    starts = _move_to_small_hours(rng, starts, habit, day_start_ms(day))
    mean_views = MEAN_VIEWS_PER_SESSION * np.exp(HABIT_SESSION_LENGTH_EFFECT * habit - _HABIT_LENGTH_CENTRE)
    n_views = np.minimum(rng.geometric(1.0 / np.maximum(mean_views, 1.0)), 80)
    return simulate_sessions(world, rng, users, starts, n_views, day_start_ms(day) + MS_PER_DAY, first_session)


def late_night_probability(compulsivity: np.ndarray) -> np.ndarray:
    """Chance that a session of a user with this compulsivity happens in the small hours instead of when it was
    drawn: about 1.4% at the average, 8% one standard deviation up, 22% two up."""
    return 0.3 * ad_model.sigmoid(2.0 * compulsivity - 3.0)


def _move_to_small_hours(rng: np.random.Generator, starts_ms: np.ndarray, compulsivity: np.ndarray,
                         day_ms: int) -> np.ndarray:
    moved = rng.random(len(starts_ms)) < late_night_probability(compulsivity)
    hours = rng.choice(np.asarray(SMALL_HOURS), size=len(starts_ms))
    night = day_ms + hours * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=len(starts_ms))
    return np.where(moved, night, starts_ms)


def simulate_late_sessions(world: World, rng: np.random.Generator, n_sessions: int, day: date,
                           first_session: int) -> Events:
    """Short sessions from the evening before `day` whose upload was delayed into `day`'s files."""
    users = world.sample_users(rng, n_sessions)
    evening = np.where(np.arange(24) >= 18, HOUR_WEIGHTS, 0.0)
    starts = sample_session_starts(rng, n_sessions, day_start_ms(day) - MS_PER_DAY, evening)
    n_views = rng.integers(1, 4, size=n_sessions)
    events = simulate_sessions(world, rng, users, starts, n_views, day_start_ms(day), first_session)
    events.late[:] = True
    return events


def simulate_sessions(world: World, rng: np.random.Generator, users: np.ndarray, starts_ms: np.ndarray,
                      n_views: np.ndarray, end_ms: int, first_session: int) -> Events:
    """All events of the given sessions, cut so nothing happens at or after `end_ms`."""
    n_sessions = len(users)
    device = world.user_device[users].copy()
    switched = rng.random(n_sessions) < DEVICE_SWITCH_SHARE
    device[switched] = rng.integers(0, len(DEVICES), size=int(switched.sum()))
    network = world.sample_networks(rng, users)
    session_id = first_session + np.arange(n_sessions, dtype=np.int64)
    session_id[rng.random(n_sessions) >= SESSION_HINT_SHARE] = -1
    start_hour = (starts_ms // MS_PER_HOUR) % 24

    # ---- one row per step (= per view) ----------------------------------------------------------------------
    sess = np.repeat(np.arange(n_sessions), n_views)
    user = users[sess]
    n = len(sess)
    from_search = rng.random(n) < SEARCH_SHARE
    topic, item = sample_viewed_items(world, rng, user, from_search)
    affinity = world.affinity(user, topic)
    quality = 2.0 * world.item_quality[item] - 1.0  # -1 .. 1

    dwell = sample_dwell_ms(rng, affinity, quality)
    like = rng.random(n) < ad_model.sigmoid(-3.2 + 0.9 * affinity + 1.6 * quality)
    share = rng.random(n) < ad_model.sigmoid(-5.0 + 0.8 * affinity + 1.4 * quality)
    # Latent opinion of the item; centred so strong feelings (which make people comment) go both ways.
    opinion = (0.8 * world.user_attitude[user] + 1.3 * quality + 0.4 * affinity - 0.65
               + rng.normal(0.0, 0.6, size=n))
    comment = rng.random(n) < ad_model.sigmoid(-4.3 + 0.8 * np.abs(opinion))

    # ---- ads ------------------------------------------------------------------------------------------------
    ad_rows = np.flatnonzero(rng.random(n) < AD_SHARE)
    ad_users, ad_sess = user[ad_rows], sess[ad_rows]
    served = ad_model.serve_ads(world, rng, ad_users)
    ad, propensity = served.ad, served.propensity
    slot = ad_model.sample_slots(rng, len(ad_rows))
    click_prob = ad_model.click_probability(  # hour of day: the session's start hour (sessions are short)
        world, ad_users, ad, slot, device[ad_sess], network[ad_sess], start_hour[ad_sess]
    )
    # truth for off-policy evaluation: what each candidate's click probability would have been in this context
    candidate_click_prob = ad_model.candidate_click_probabilities(
        world, served.candidates, ad_users, slot, device[ad_sess], network[ad_sess], start_hour[ad_sess]
    )
    clicked = rng.random(len(ad_rows)) < click_prob
    purchased = clicked & (rng.random(len(ad_rows)) < ad_model.purchase_probability(world, ad_users, ad))
    click_delay = np.where(clicked, rng.lognormal(np.log(8000.0), 0.9, size=len(ad_rows)).clip(1000, 240_000), 0)
    click_delay = click_delay.astype(np.int64)  # seconds to minutes after the impression
    landing_dwell = np.where(clicked, rng.lognormal(np.log(20000.0), 1.0, size=len(ad_rows)).clip(500, 300_000), 0)
    landing_dwell = landing_dwell.astype(np.int64)  # time on the advertiser's page
    amount = np.round(rng.lognormal(np.log(35.0), 0.8, size=len(ad_rows)), 2)

    # ---- timeline -------------------------------------------------------------------------------------------
    search_gap = np.where(from_search, rng.integers(2000, 15000, size=n), 0)
    typing = np.where(comment, rng.integers(5000, 40000, size=n), 0)
    ad_gap = np.zeros(n, dtype=np.int64)
    ad_gap[ad_rows] = rng.integers(200, 1500, size=len(ad_rows))
    ad_visit = np.zeros(n, dtype=np.int64)
    ad_visit[ad_rows] = click_delay + landing_dwell
    step_len = search_gap + dwell + typing + ad_gap + ad_visit + rng.integers(500, 4000, size=n)
    step_start = starts_ms[sess] + _exclusive_cumsum_per_group(step_len, n_views)
    view_ts = step_start + search_gap
    # Steps are consecutive, so "ends before end_ms" only ever drops the tail of a session.
    keep = step_start + step_len < end_ms

    # ---- blocks of events, one per type ---------------------------------------------------------------------
    rnd = random.Random(int(rng.integers(2**63)))  # Python's RNG is faster for per-string choices

    def common(rows: np.ndarray) -> dict[str, np.ndarray]:
        """Context every event of a step carries."""
        return dict(user=user[rows], session=session_id[sess[rows]], device=device[sess[rows]],
                    network=network[sess[rows]], geo=world.user_geo[user[rows]])

    blocks: list[Events] = []

    rows = np.flatnonzero(keep & from_search)
    blocks.append(Events.build(len(rows), ts_ms=step_start[rows], event_type=TYPE_CODE["search"],
                               text=np.array(search_queries(rnd, topic[rows]), dtype=object), **common(rows)))
    rows = np.flatnonzero(keep)
    blocks.append(Events.build(len(rows), ts_ms=view_ts[rows], event_type=TYPE_CODE["view"], item=item[rows],
                               topic=topic[rows], dwell_ms=dwell[rows], **common(rows)))
    for kind, mask, earliest in (("like", like, 0.3), ("share", share, 0.5)):
        rows = np.flatnonzero(keep & mask)
        ts = view_ts[rows] + (rng.uniform(earliest, 1.0, size=len(rows)) * dwell[rows]).astype(np.int64)
        blocks.append(Events.build(len(rows), ts_ms=ts, event_type=TYPE_CODE[kind], item=item[rows],
                                   topic=topic[rows], **common(rows)))
    rows = np.flatnonzero(keep & comment)
    sentiment = sentiment_from_score(opinion[rows])
    blocks.append(Events.build(len(rows), ts_ms=view_ts[rows] + dwell[rows] + typing[rows],
                               event_type=TYPE_CODE["comment"], item=item[rows], topic=topic[rows],
                               campaign=world.item_campaign[item[rows]],
                               text=np.array(comment_texts(rnd, sentiment, topic[rows]), dtype=object),
                               sentiment=sentiment, **common(rows)))

    kept_ads = np.flatnonzero(keep[ad_rows])  # positions within the ad arrays
    rows = ad_rows[kept_ads]
    imp_ts = view_ts[rows] + dwell[rows] + typing[rows] + ad_gap[rows]
    a = ad[kept_ads]
    ad_columns = dict(ad=a, campaign=world.ad_campaign[a], topic=world.ad_topic[a])
    imp_offset = sum(len(b) for b in blocks)
    blocks.append(Events.build(len(rows), ts_ms=imp_ts, event_type=TYPE_CODE["impression"], slot=slot[kept_ads],
                               request=imp_offset + np.arange(len(rows)), propensity=propensity[kept_ads],
                               candidates=served.candidates[kept_ads],
                               candidate_probs=served.candidate_probs[kept_ads],
                               candidate_click_probs=candidate_click_prob[kept_ads],
                               click_prob=click_prob[kept_ads], clicked=clicked[kept_ads],
                               **ad_columns, **common(rows)))
    hit = np.flatnonzero(clicked[kept_ads])  # positions within the impression block
    rows, k, click_ts = rows[hit], kept_ads[hit], imp_ts[hit] + click_delay[kept_ads[hit]]
    blocks.append(Events.build(len(rows), ts_ms=click_ts, event_type=TYPE_CODE["click"], slot=slot[k],
                               request=imp_offset + hit, dwell_ms=landing_dwell[k],
                               **{c: v[hit] for c, v in ad_columns.items()}, **common(rows)))
    bought = np.flatnonzero(purchased[k])
    rows, k = rows[bought], k[bought]
    ts = click_ts[bought] + (rng.uniform(0.4, 0.95, size=len(rows)) * landing_dwell[k]).astype(np.int64)
    blocks.append(Events.build(len(rows), ts_ms=ts, event_type=TYPE_CODE["purchase"], ad=ad[k],
                               campaign=world.ad_campaign[ad[k]], amount=amount[k], **common(rows)))
    return Events.concat(blocks, shift_requests=False)  # requests already count from the first block


def sample_viewed_items(world: World, rng: np.random.Generator, users: np.ndarray,
                        from_search: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(topic, item) of each view: searches and most feed slots follow the user's tastes, the rest what is popular
    overall; within a topic, popular items are served more often. `item_view_probability` is this, in closed form."""
    personal = from_search | (rng.random(len(users)) < PERSONALISED_SHARE)
    topic = np.where(personal, world.sample_interest_topics(rng, users), world.sample_popular_topics(rng, len(users)))
    return topic, world.sample_items(rng, topic)


def item_view_probability(world: World, users: np.ndarray) -> np.ndarray:
    """(len(users), items): the true probability that a user's next view is each item. It is what the generator
    draws from, so ranking by it is the best any recommender can do on generated data (the oracle)."""
    personal = SEARCH_SHARE + (1.0 - SEARCH_SHARE) * PERSONALISED_SHARE
    interest = world.user_interest[users].astype(np.float64)
    topic_probability = personal * interest + (1.0 - personal) * world.topic_popularity
    within_topic = world.item_popularity.astype(np.float64)
    topic_totals = np.bincount(world.item_topic, weights=within_topic, minlength=world.user_interest.shape[1])
    within_topic = within_topic / topic_totals[world.item_topic]
    return topic_probability[:, world.item_topic] * within_topic


def sample_dwell_ms(rng: np.random.Generator, affinity: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Time on a viewed item: longer for liked topics and better items, heavy-tailed, 0.3 s .. 10 min."""
    return rng.lognormal(np.log(9000.0) + 0.45 * affinity + 0.6 * quality, 0.8).clip(300, 600_000).astype(np.int64)


def _exclusive_cumsum_per_group(values: np.ndarray, group_sizes: np.ndarray) -> np.ndarray:
    """For consecutive groups, the running total of earlier values within the same group."""
    before = np.cumsum(values) - values
    group_first = np.cumsum(group_sizes) - group_sizes
    return before - np.repeat(before[group_first], group_sizes)
