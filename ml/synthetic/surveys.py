"""Answers to a wellbeing survey from a sample of users: the labels of the engagement-health model.

The questionnaire is Bergen-style (after the Bergen Social Media Addiction Scale): six items (salience, tolerance,
mood modification, relapse, withdrawal, conflict), each answered 1 (very rarely) .. 5 (very often). The sum
(6..30) at or above AT_RISK_CUTOFF counts as at risk of problematic use. Answers come from the user's latent
compulsivity, the trait that also drives usage (sessions.py), plus the respondent's response style and per-item
noise, so usage predicts the answers only imperfectly, as with a real survey. A few rows are unusable, as in real
survey exports (an item left blank or out of range); the manifest counts them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from .sessions import MS_PER_DAY, day_start_ms
from .world import USER_ID_FORMAT, World

SURVEY_SHARE = 0.005  # of all users, per day: about 3.5% of the users a week
INSTRUMENT = "bergen6"
ITEMS = 6
AT_RISK_CUTOFF = 24  # sum score at or above: at risk
ITEM_BASE, ITEM_LOADING, STYLE_SD, ITEM_NOISE_SD = 2.8, 0.75, 0.35, 0.7
INVALID_SHARE = 0.02
CSV_HEADER = ("response_id", "user_id", "answered_at", "instrument",
              *(f"item_{k}" for k in range(1, ITEMS + 1)), "total_score")


@dataclass
class SurveyDay:
    rows: list[tuple]  # CSV rows, header CSV_HEADER
    users: np.ndarray  # respondents (user numbers)
    scores: np.ndarray  # sum score of each response (valid or not)
    valid: np.ndarray  # False where a row was made unusable

    @property
    def at_risk(self) -> np.ndarray:
        return self.scores >= AT_RISK_CUTOFF


def item_answers(rng: np.random.Generator, compulsivity: np.ndarray) -> np.ndarray:
    """(respondents, ITEMS) answers 1..5 driven by compulsivity, a response style and per-item noise."""
    style = rng.normal(0.0, STYLE_SD, size=(len(compulsivity), 1))
    latent = ITEM_BASE + ITEM_LOADING * compulsivity[:, None] + style
    return np.clip(np.rint(latent + rng.normal(0.0, ITEM_NOISE_SD, size=(len(compulsivity), ITEMS))), 1, 5).astype(int)


def survey_day(world: World, rng: np.random.Generator, day: date, share: float = SURVEY_SHARE) -> SurveyDay:
    """The day's responses: each user answers with probability `share`, at a random time of the day."""
    users = np.flatnonzero(rng.random(world.n_users) < share)
    answers = item_answers(rng, world.user_compulsivity[users])
    scores = answers.sum(axis=1)
    answered_ms = day_start_ms(day) + rng.integers(0, MS_PER_DAY, size=len(users))
    valid = rng.random(len(users)) >= INVALID_SHARE
    broken_item = rng.integers(0, ITEMS, size=len(users))
    broken_value = rng.choice(np.array(["", "0", "7"], dtype=object), size=len(users))
    rows = []
    for k, (user, ms) in enumerate(zip(users.tolist(), answered_ms.tolist())):
        items: list[object] = answers[k].tolist()
        if not valid[k]:
            items[broken_item[k]] = broken_value[k]
        answered_at = np.datetime64(ms, "ms").astype(str) + "Z"
        rows.append((f"r{day:%Y%m%d}-{k:05d}", USER_ID_FORMAT % user, answered_at, INSTRUMENT, *items,
                     int(scores[k])))
    return SurveyDay(rows=rows, users=users, scores=scores, valid=valid)


def write_survey_csv(path: Path, survey: SurveyDay) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(survey.rows)
