"""The recommender in ml/recommend on generated interactions: metrics, split, cold start, persistence, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ml.recommend import Recommender, RecommenderConfig, interactions_from_events, train_recommender
from ml.recommend.cli import main as cli_main
from ml.recommend.metrics import ranking_metrics
from ml.recommend.oracle import GeneratorOracle
from ml.recommend.ranking import top_k
from ml.recommend.split import time_split
from ml.synthetic.interactions import simulate_view_interactions
from ml.synthetic.sessions import SEARCH_SHARE, item_view_probability, sample_viewed_items
from ml.synthetic.world import build_world


@pytest.fixture(scope="module")
def world():
    return build_world(11, 160_000)  # 4,000 users x 1,000 items


@pytest.fixture(scope="module")
def interactions(world):
    return simulate_view_interactions(world, days=6, views_per_day=60_000, seed=11)


@pytest.fixture(scope="module")
def trained(world, interactions):
    return train_recommender(interactions, RecommenderConfig(), oracle=GeneratorOracle(world))


def test_metrics_match_a_hand_computed_example():
    # user 0: relevant {1, 3}; list [1, 2, 3] -> hits at ranks 1 and 3
    # user 1: relevant {0}; list [2, 0, -1] -> hit at rank 2
    positions = np.array([[1, 2, 3], [2, 0, -1]])
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [1, 0, 0, 0, 0]]))
    m = ranking_metrics(positions, relevant, popular_items=np.array([2]), n_catalogue=5)
    assert m["users"] == 2
    assert m["recall@3"] == pytest.approx((1.0 + 1.0) / 2)
    ndcg0 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    ndcg1 = (1 / np.log2(3)) / 1.0
    assert m["ndcg@3"] == pytest.approx((ndcg0 + ndcg1) / 2)
    ap0 = (1 / 1 + 2 / 3) / 2
    ap1 = (1 / 2) / 1
    assert m["map@3"] == pytest.approx((ap0 + ap1) / 2)
    assert m["coverage"] == pytest.approx(4 / 5)  # items 0, 1, 2, 3
    assert m["popularity_bias"] == pytest.approx(2 / 5)  # item 2 fills 2 of the 5 filled slots


def test_metrics_of_no_users_or_empty_lists_are_defined():
    relevant = sp.csr_matrix(np.array([[0, 1], [1, 0]]))
    none = ranking_metrics(np.zeros((0, 3), dtype=int), relevant[np.array([], dtype=int)], np.array([0]), 2)
    assert none["users"] == 0 and np.isnan(none["recall@3"]) and none["coverage"] == 0.0
    empty = ranking_metrics(np.full((2, 3), -1), relevant, np.array([0]), 2)
    assert empty["users"] == 2 and empty["recall@3"] == 0.0 and empty["popularity_bias"] == 0.0


def test_top_k_excludes_seen_items_and_pads_short_lists():
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.5, 0.5, 0.2, 0.4]])
    seen = sp.csr_matrix(np.array([[1, 0, 1, 1], [0, 0, 0, 0]]))
    positions, best = top_k(scores, 3, seen)
    assert positions[0].tolist() == [1, -1, -1]
    assert positions[1].tolist() == [0, 1, 3]  # tie broken by item position
    assert np.isneginf(best[0, 1:]).all()


def test_oracle_is_the_generators_view_distribution(world):
    probabilities = item_view_probability(world, np.arange(world.n_users))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)  # float32 tastes
    # The views the generator draws for one heavy user follow that user's row, item by item.
    rng = np.random.default_rng(3)
    user = int(np.argmax(world.user_activity))
    users = np.full(300_000, user)
    _, items = sample_viewed_items(world, rng, users, rng.random(len(users)) < SEARCH_SHARE)
    observed = np.bincount(items, minlength=world.n_items) / len(items)
    expected = probabilities[user]
    assert np.abs(observed - expected).sum() < 0.05  # total variation distance, sampling noise ~0.03
    assert np.corrcoef(observed, expected)[0, 1] > 0.99


def test_time_split_keeps_the_test_day_out_of_training(interactions, trained):
    model, report = trained
    split = time_split(interactions)
    assert split.train["day"].max() < split.test_day
    assert report.split["test_day"] == str(split.test_day.date())
    assert str(split.test_day.date()) not in report.split["train_days"]
    # An item seen only on the test day cannot be in the catalogue the model learnt.
    only_test = set(split.test["item"]) - set(split.train["item"])
    assert not only_test & set(model.items.keys.tolist())
    # Adding the test day to the history changes nothing that evaluation used: rank() reads only the rows given.
    user = split.test["user"].iloc[0]
    before = model.recommend(split.train, [user])
    again = model.recommend(split.train[split.train["user"] == user], [user])
    pd.testing.assert_frame_equal(before, again)


def test_beats_popularity_and_random_and_stays_below_the_truth(trained):
    _, report = trained
    recall = {name: report.metric(name, "recall@20") for name in ("model", "popularity", "random", "oracle")}
    assert recall["model"] > 1.15 * recall["popularity"], recall
    assert recall["popularity"] > 2 * recall["random"], recall
    assert recall["model"] < recall["oracle"], recall
    assert report.metric("model", "ndcg@20") > report.metric("popularity", "ndcg@20")
    assert report.fraction_of_oracle_gap_closed("recall@20") > 0.3
    # Personalised lists spread over the catalogue; the popularity list is the same 20 items minus what was seen.
    assert report.metric("model", "coverage") > 2 * report.metric("popularity", "coverage")


def test_lists_exclude_seen_items_have_no_duplicates_and_stay_in_the_catalogue(interactions, trained):
    model, _ = trained
    history = interactions[interactions["day"] < interactions["day"].max()]
    users = history["user"].unique()[:300]
    recs = model.recommend(history, users)
    assert recs.groupby("user").size().max() == 20
    assert not recs.duplicated(["user", "item"]).any()
    assert set(recs["item"]) <= set(model.items.keys.tolist())
    seen = set(zip(history["user"], history["item"]))
    assert not any((u, i) in seen for u, i in zip(recs["user"], recs["item"]))
    assert (recs.groupby("user")["score"].apply(lambda s: s.is_monotonic_decreasing)).all()


def test_cold_start_users_get_documented_fallbacks(interactions, trained):
    model, _ = trained
    known_item = model.items.keys[0]
    topic = model.item_topics[0]
    few = interactions.iloc[:0].copy()
    rows = [("one-interaction-user", known_item, interactions["day"].max(), 2.0, topic)]
    new_items = model.items.keys[1:6]
    rows += [("new-but-active-user", item, interactions["day"].max(), 1.0, model.item_topics[i + 1])
             for i, item in enumerate(new_items)]
    rows += [("new-but-active-user", "item-released-after-training", interactions["day"].max(), 9.0, topic)]
    history = pd.concat([few, pd.DataFrame(rows, columns=few.columns)], ignore_index=True)
    recs = model.recommend(history, ["one-interaction-user", "new-but-active-user", "never-seen-user"])
    reason = recs.groupby("user")["reason"].first()
    assert reason["one-interaction-user"] == f"segment_popularity:{topic}"
    assert reason["new-but-active-user"] == "model"  # 5 items: folded into the factor space
    assert reason["never-seen-user"] == "global_popularity"
    # An item unknown at training has no factors: it neither breaks the fold-in nor appears in a list.
    assert "item-released-after-training" not in set(recs["item"])
    assert known_item not in set(recs.loc[recs["user"] == "one-interaction-user", "item"])
    assert recs.groupby("user").size().eq(20).all()
    # The popularity fallback for a segment ranks what that segment's users watch, not the global chart.
    global_list = recs.loc[recs["user"] == "never-seen-user", "item"].tolist()
    segment_list = recs.loc[recs["user"] == "one-interaction-user", "item"].tolist()
    assert global_list != segment_list


def test_no_active_users_gives_an_empty_table(trained, interactions):
    model, _ = trained
    recs = model.recommend(interactions.iloc[:0], [])
    assert recs.empty and list(recs.columns) == ["user", "rank", "item", "score", "reason"]


def test_saved_model_recommends_the_same(tmp_path, interactions, trained):
    model, _ = trained
    model.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    history = interactions[interactions["day"] < interactions["day"].max()]
    users = history["user"].unique()[:200]
    pd.testing.assert_frame_equal(model.recommend(history, users), loaded.recommend(history, users))


def test_plain_event_logs_are_aggregated_and_validated():
    events = pd.DataFrame({"uid": ["a", "a", "a", "b"], "sku": ["x", "x", "y", "x"],
                           "ts": [1_700_000_000, 1_700_000_100, 1_700_090_000, 1_700_000_000],
                           "plays": [2.0, 3.0, 1.0, 4.0]})
    frame = interactions_from_events(events, user="uid", item="sku", timestamp="ts", weight="plays")
    a_x = frame[(frame["user"] == "a") & (frame["item"] == "x")]
    assert len(a_x) == 1 and a_x["attention"].iloc[0] == 5.0  # two events on one UTC day summed
    assert frame["day"].nunique() == 2
    with pytest.raises(ValueError, match="missing column"):
        interactions_from_events(events, user="user")
    with pytest.raises(ValueError, match="empty"):
        interactions_from_events(events.assign(uid=["a", None, "a", "b"]), user="uid", item="sku", timestamp="ts")
    with pytest.raises(ValueError, match="negative"):
        interactions_from_events(events.assign(plays=[1.0, -1.0, 1.0, 1.0]), user="uid", item="sku",
                                 timestamp="ts", weight="plays")
    with pytest.raises(ValueError, match="unparseable"):
        interactions_from_events(events.assign(ts=["2026-01-01", "soon", "2026-01-02", "2026-01-01"]),
                                 user="uid", item="sku", timestamp="ts")


def test_cli_trains_and_evaluates_a_plain_interactions_file(tmp_path, world, capsys):
    views = simulate_view_interactions(world, days=4, views_per_day=30_000, seed=5)
    log = pd.DataFrame({"member": views["user"], "track": views["item"],
                        "played_at": views["day"].dt.strftime("%Y-%m-%dT12:00:00Z"), "minutes": views["attention"]})
    path = tmp_path / "plays.csv"
    log.to_csv(path, index=False)
    code = cli_main(["train", "--interactions", str(path), "--user", "member", "--item", "track",
                     "--timestamp", "played_at", "--weight", "minutes", "--out", str(tmp_path / "model")])
    printed = capsys.readouterr().out
    assert code == 0
    assert "popularity" in printed and "random" in printed and "recall@20" in printed
    assert (tmp_path / "model" / "report.json").exists() and (tmp_path / "model" / "als.npz").exists()
    assert cli_main(["train", "--interactions", str(tmp_path / "missing.csv")]) == 2
    assert cli_main(["train", "--interactions", str(path)]) == 2  # no `user` column: a clear error, exit 2
    assert "missing column" in capsys.readouterr().err
