"""Train / validation / test splits of the text classifier never share a day or a user."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from ml.text import TextSplitConfig, load_generated_comments
from ml.text.split import split_by_time, split_by_user, split_random, split_rows, user_bucket
from ml.synthetic import generate_days


@pytest.fixture(scope="module")
def comments(tmp_path_factory) -> pd.DataFrame:
    work = tmp_path_factory.mktemp("split")
    generate_days(dt.date(2026, 3, 1), 4, work / "landing", work / "truth", events_per_day=15_000, seed=3)
    return load_generated_comments(work / "landing", work / "truth")


def test_time_split_keeps_whole_days_in_order(comments):
    split = split_by_time(comments["event_ts"], TextSplitConfig(mode="time"))
    days = pd.to_datetime(comments["event_ts"], utc=True).dt.date.to_numpy()
    train, validation, test = (set(days[rows]) for rows in (split.train, split.validation, split.test))
    assert not train & validation and not train & test and not validation & test
    assert max(train) < min(validation) <= max(validation) < min(test)
    assert split.detail["test_days"] == [max(days).isoformat()]
    assert len(split.train) + len(split.validation) + len(split.test) == len(comments)


def test_user_split_puts_each_user_in_one_part(comments):
    split = split_by_user(comments["user_id"], TextSplitConfig(mode="user", validation=0.2, test=0.2), seed=1)
    users = comments["user_id"].to_numpy()
    train, validation, test = (set(users[rows]) for rows in (split.train, split.validation, split.test))
    assert not train & validation and not train & test and not validation & test
    assert train | validation | test == set(users)
    n = len(set(users))
    assert split.detail["users"]["test"] == round(0.2 * n)


def test_user_assignment_is_stable_under_row_order_and_other_users(comments):
    config = TextSplitConfig(mode="user", validation=0.2, test=0.2)
    shuffled = comments.sample(frac=1.0, random_state=0).reset_index(drop=True)
    a = split_by_user(comments["user_id"], config, seed=5)
    b = split_by_user(shuffled["user_id"], config, seed=5)
    assert set(comments["user_id"].to_numpy()[a.test]) == set(shuffled["user_id"].to_numpy()[b.test])
    assert user_bucket("u000001", 5) == user_bucket("u000001", 5) != user_bucket("u000001", 6)


def test_auto_mode_prefers_time_then_user_then_random(comments):
    labels = comments["true_sentiment"].to_numpy()
    assert split_rows(labels, comments["event_date"], comments["user_id"], TextSplitConfig(), 0).mode == "time"
    assert split_rows(labels, None, comments["user_id"], TextSplitConfig(), 0).mode == "user"
    assert split_rows(labels, None, None, TextSplitConfig(), 0).mode == "random"
    with pytest.raises(ValueError, match="needs a user column"):
        split_rows(labels, comments["event_date"], None, TextSplitConfig(mode="user"), 0)


def test_random_split_is_stratified_disjoint_and_seeded():
    labels = np.array(["a"] * 600 + ["b"] * 300 + ["c"] * 100)
    split = split_random(labels, TextSplitConfig(mode="random", validation=0.2, test=0.2), seed=4)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == 1000 and len(np.unique(np.concatenate(parts))) == 1000
    for rows in (split.validation, split.test):
        shares = pd.Series(labels[rows]).value_counts(normalize=True)
        assert shares["a"] == pytest.approx(0.6, abs=0.03) and shares["c"] == pytest.approx(0.1, abs=0.03)
    again = split_random(labels, TextSplitConfig(mode="random", validation=0.2, test=0.2), seed=4)
    assert np.array_equal(again.test, split.test)


def test_too_few_days_is_a_clear_error():
    with pytest.raises(ValueError, match="too few days"):
        split_by_time(pd.Series(["2026-03-01", "2026-03-02"], name="event_date"), TextSplitConfig())
