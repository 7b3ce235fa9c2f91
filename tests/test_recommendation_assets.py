"""The recommendation assets in the daily job on generated days: the recommender is trained, evaluated against
its baselines and the generator's truth, registered, and serves a valid top-20 list to every active user; a
re-run of a day gives the same lists; the blocking check catches broken lists."""

import datetime as dt

import duckdb
import pytest

from ml.synthetic import generate_days
from orchestration.defs.models.recommendations import _list_problems
from tests.helpers import query, run_daily_job

pytestmark = pytest.mark.slow

# 40k events a day: 1,000 users x 250 items. With fewer, 20 items are a large share of the catalogue and the
# popularity list is hard to beat by any ranking (at 12k, 100 items: popularity recall@20 0.67, the truth 0.76).
FIRST, DAYS, EVENTS_PER_DAY, SEED = dt.date(2026, 6, 1), 5, 40_000, 9
LAST = FIRST + dt.timedelta(days=DAYS - 1)
# The comment classifier is tested elsewhere; fine-tuning it here would only cost minutes.
RUN_CONFIG = {"ops": {"comment_classifier": {"config": {"min_labels": 10**9}}}}
ALL_LISTS = "SELECT * FROM scores.user_recommendations ORDER BY event_date, user_key, rank"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    home = tmp_path_factory.mktemp("recommend") / "home"
    generate_days(FIRST, DAYS, home / "landing", home / "ground_truth", events_per_day=EVENTS_PER_DAY, seed=SEED)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ATTNFLOW_HOME", str(home))
        first_run = run_daily_job(FIRST, LAST, run_config=RUN_CONFIG)
        lists_before_rerun = query(home, ALL_LISTS)
        rerun = run_daily_job(LAST, run_config=RUN_CONFIG)
    return {"home": home, "first_run": first_run, "rerun": rerun, "lists_before_rerun": lists_before_rerun}


def metadata_of(result, name):
    found = [e.materialization.metadata for e in result.get_asset_materialization_events()
             if e.asset_key.path[-1] == name]
    assert found, f"{name} was not materialised"
    return {key: getattr(value, "value", value) for key, value in found[-1].items()}


def test_model_is_evaluated_against_baselines_and_truth_and_promoted_only_if_it_beats_popularity(scenario):
    meta = metadata_of(scenario["first_run"], "recommender_model")
    table = meta["evaluation"]
    for ranker in ("| model |", "| popularity |", "| random |", "| oracle |", "| fallback (cold users) |"):
        assert ranker in table
    assert meta["split"]["test_day"] == str(LAST)
    assert str(LAST) not in meta["split"]["train_days"]
    assert meta["recall@20"] > meta["popularity_recall@20"]  # generated tastes are learnable
    assert meta["promoted"] and meta["serving_version"] == meta["version"]
    assert 0 < meta["fraction_of_oracle_gap_closed"] < 1
    assert meta["test_users"] == query(scenario["home"],
                                       "SELECT count(DISTINCT user_key) FROM marts.fct_daily_attention "
                                       "WHERE event_date = ?", [LAST])[0][0]


def test_every_active_user_gets_a_valid_list(scenario):
    home = scenario["home"]
    active = dict(query(home, "SELECT session_date, count(DISTINCT user_key) FROM marts.fct_sessions "
                              "WHERE session_date >= ? GROUP BY 1", [FIRST]))
    served = dict(query(home, "SELECT event_date, count(DISTINCT user_key) FROM scores.user_recommendations "
                              "GROUP BY 1"))
    assert {day: served.get(day) for day in active} == active
    lengths = query(home, "SELECT min(n), max(n) FROM (SELECT count(*) AS n FROM scores.user_recommendations "
                          "GROUP BY event_date, user_key)")[0]
    assert lengths == (20, 20)
    assert query(home, "SELECT count(*) - count(DISTINCT (event_date, user_key, item_id)) "
                       "FROM scores.user_recommendations")[0][0] == 0
    reasons = {r[0] for r in query(home, "SELECT DISTINCT split_part(reason, ':', 1) FROM scores.user_recommendations")}
    assert "model" in reasons and reasons <= {"model", "segment_popularity", "global_popularity"}
    checks = [c for c in scenario["first_run"].get_asset_check_evaluations() if c.check_name == "recommendations_valid"]
    assert checks and all(c.passed for c in checks)


def test_lists_leave_out_what_the_user_already_saw(scenario):
    already_seen = query(scenario["home"], """
        SELECT count(*) FROM scores.user_recommendations r
        JOIN marts.fct_daily_attention a
          ON a.user_key = r.user_key AND a.item_id = r.item_id AND a.event_date <= r.event_date""")[0][0]
    assert already_seen == 0


def test_new_and_light_users_get_the_popularity_fallback(scenario):
    home = scenario["home"]
    # Users whose whole history (up to that day) holds fewer than 3 distinct items cannot be folded in.
    light = query(home, """
        WITH history AS (
            SELECT r.event_date, r.user_key, count(DISTINCT a.item_id) AS items
            FROM (SELECT DISTINCT event_date, user_key FROM scores.user_recommendations) r
            LEFT JOIN marts.fct_daily_attention a ON a.user_key = r.user_key AND a.event_date <= r.event_date
            GROUP BY ALL)
        SELECT h.items, any_value(r.reason) FROM history h JOIN scores.user_recommendations r USING (event_date, user_key)
        WHERE h.items < 3 GROUP BY h.event_date, h.user_key, h.items""")
    assert light, "expected a few light users among generated ones"
    assert all(reason != "model" for _, reason in light)
    assert all(reason == "global_popularity" for items, reason in light if items == 0)


def test_rerunning_a_day_gives_the_same_lists(scenario):
    assert query(scenario["home"], ALL_LISTS) == scenario["lists_before_rerun"]
    # Same rows, same settings: no second, identical version is trained and registered.
    kept = metadata_of(scenario["rerun"], "recommender_model")
    assert kept["retrained"] is False and "not retraining" in kept["reason"]
    assert metadata_of(scenario["rerun"], "user_recommendations")["model_version"] == "v0001"


def test_the_check_counts_broken_lists(scenario, tmp_path):
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes((scenario["home"] / "attnflow.duckdb").read_bytes())
    with duckdb.connect(str(copy)) as conn:
        users = [r[0] for r in conn.execute("SELECT DISTINCT user_key FROM scores.user_recommendations "
                                             "WHERE event_date = ? ORDER BY 1 LIMIT 6", [LAST]).fetchall()]
        conn.execute("""INSERT INTO scores.user_recommendations  -- users 0, 1: their first item again
                        SELECT event_date, user_key, 21, item_id, score, reason, model_version
                        FROM scores.user_recommendations WHERE event_date = ? AND rank = 1 AND user_key IN (?, ?)""",
                     [LAST, *users[:2]])
        conn.execute("UPDATE scores.user_recommendations SET item_id = 'i99999' "  # users 2-4: an unknown item
                     "WHERE event_date = ? AND rank = 5 AND user_key IN (?, ?, ?)", [LAST, *users[2:5]])
        conn.execute("DELETE FROM scores.user_recommendations WHERE event_date = ? AND user_key = ?",
                     [LAST, users[5]])  # user 5: no list
        problems = _list_problems(conn, LAST, LAST)
    assert problems == {"active_users_without_a_list": 1, "duplicate_items_in_a_list": 2,
                        "items_outside_the_catalogue": 3}
