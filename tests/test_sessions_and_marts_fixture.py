"""Hand-written logs through the real pipeline: sessionisation, click attribution, masking, pseudonymisation."""

import datetime as dt
import hashlib
import json
from pathlib import Path

from tests.helpers import query, run_daily_job

D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def ev(event_id, ts, event_type="view", user="alice", **extra):
    return {"event_id": event_id, "event_ts": ts, "event_type": event_type, "user_id": user, **extra}


DAY1 = [
    ev("a1", "2026-03-01T10:00:00Z", item_id="i1", dwell_ms=60_000, properties={"topic": "music"}),
    ev("a2", "2026-03-01T10:10:00Z", item_id="i2", dwell_ms=3_600_000, properties={"topic": "news"}),
    ev("a3", "2026-03-01T10:45:00Z", item_id="i1", dwell_ms=1_000),       # 35 min gap: new session
    ev("a4", "2026-03-01T10:50:00Z", "impression", ad_id="ad1", campaign_id="c1", slot=1, request_id="r1",
       properties={"topic": "music", "propensity": 0.5}),
    ev("a5", "2026-03-01T10:50:20Z", "click", ad_id="ad1", campaign_id="c1", slot=1, request_id="r1", dwell_ms=9000),
    ev("a6", "2026-03-01T10:51:00Z", "impression", ad_id="ad2", campaign_id="c1", slot=2, request_id="r2"),
    ev("a7", "2026-03-01T11:30:00Z", "click", ad_id="ad2", campaign_id="c1", slot=2, request_id="r2"),  # 39 min: too late
    ev("a8", "2026-03-01T23:50:00Z", item_id="i3", dwell_ms=5_000),        # session crossing midnight ...
    ev("b1", "2026-03-01T10:05:00Z", "comment", user="bob", item_id="i1",
       text="great song, mail me at bob.smith@example.com or call +44 20 7946 0958"),
]
DAY2 = [
    ev("a9", "2026-03-02T00:10:00Z", item_id="i3", dwell_ms=5_000),        # ... continues after midnight
    ev("a10", "2026-03-01T23:55:00Z", "like", item_id="i3"),               # late event for D1, same session
    ev("a11", "2026-03-02T09:00:00Z", "impression", ad_id="ad1", campaign_id="c1", slot=3, request_id="r3"),
]


def land(home: Path, day: dt.date, events: list[dict]) -> None:
    folder = home / "landing" / "events" / f"dt={day}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


def test_fixture_through_the_pipeline(attnflow_home):
    land(attnflow_home, D1, DAY1)
    land(attnflow_home, D2, DAY2)
    result = run_daily_job(D1, D2)
    assert result.success

    sessions = query(attnflow_home, """
        SELECT e.event_id, e.session_id FROM intermediate.int_events__sessionised e
        JOIN staging.stg_raw__events s USING (event_id) ORDER BY e.event_ts""")
    by_event = dict(sessions)
    assert by_event["a1"] == by_event["a2"]                   # 10 minutes apart
    assert by_event["a3"] != by_event["a2"]                   # 35 minutes later: new session
    assert by_event["a3"] == by_event["a4"] == by_event["a6"] != by_event["a7"]  # 11:30 is 39 minutes later
    assert by_event["a8"] == by_event["a10"] == by_event["a9"]  # crosses midnight, late event included
    alice_sessions = query(attnflow_home, "SELECT count(*) FROM marts.fct_sessions WHERE user_key = "
                           "(SELECT user_key FROM staging.stg_raw__events WHERE event_id = 'a1')")[0][0]
    assert alice_sessions == 5  # 10:00-10:10, 10:45-10:51, 11:30, 23:50-00:10 (crosses midnight), 09:00
    crossing = query(attnflow_home, "SELECT session_date, events, duration_s FROM marts.fct_sessions "
                     f"WHERE session_id = '{by_event['a8']}'")
    assert crossing == [(D1, 3, 1200.0)]

    clicks = query(attnflow_home, "SELECT impression_id, is_clicked, seconds_to_click, landing_dwell_ms "
                   "FROM marts.fct_impressions ORDER BY impression_id")
    assert clicks == [("a11", 0, None, None), ("a4", 1, 20, 9000), ("a6", 0, None, None)]

    comment = query(attnflow_home, "SELECT comment_text FROM marts.fct_comments")[0][0]
    assert "example.com" not in comment and "7946" not in comment
    assert comment == "great song, mail me at <email> or call <phone>"

    salt_hash = hashlib.sha256(("attnflow-dev-salt" + "alice").encode()).hexdigest()
    assert query(attnflow_home, "SELECT DISTINCT user_key FROM staging.stg_raw__events WHERE event_id LIKE 'a%'") \
        == [(salt_hash,)]
    assert query(attnflow_home, "SELECT count(*) FROM staging.stg_raw__events WHERE user_key = 'alice'")[0][0] == 0

    attention = query(attnflow_home, "SELECT item_id, engaged_ms, attention_share FROM marts.fct_daily_attention "
                      f"WHERE event_date = '{D1}' AND user_key = '{salt_hash}' ORDER BY item_id")
    # news view capped at 10 minutes: 60 s + 600 s + 1 s + 5 s (i3) of engaged time on D1
    assert [(i, ms) for i, ms, _ in attention] == [("i1", 61_000), ("i2", 600_000), ("i3", 5_000)]
    assert abs(sum(share for *_, share in attention) - 1.0) < 1e-9

    training = query(attnflow_home, "SELECT impression_id, user_impressions_lookback, user_clicks_lookback, "
                     "ad_impressions_lookback, ad_clicks_lookback, user_share_on_ad_topic FROM marts.fct_ctr_training "
                     "ORDER BY event_ts")
    # D1 impressions see no history; the D2 impression sees D1's two impressions and one click, nothing of D2
    assert training[0][1:5] == (0, 0, 0, 0) and training[1][1:5] == (0, 0, 0, 0)
    assert training[2] == ("a11", 2, 1, 1, 1, 0.0)
