"""ml.text.trends: daily shares per item / campaign and the negative-surge rule, on hand-built scored comments."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ml.text.trends import SurgeRule, daily_label_counts, detect_surges

LABELS = ["negative", "neutral", "positive"]
GRAINS = {"item": "item_id", "campaign": "campaign_id"}
DAY = dt.date(2026, 3, 8)


def comments(day: dt.date, item: str, campaign: str | None, **per_label: int) -> list[dict]:
    return [{"event_date": day, "item_id": item, "campaign_id": campaign, "predicted_label": label}
            for label, n in per_label.items() for _ in range(n)]


def week_then(today: list[dict]) -> pd.DataFrame:
    """Seven quiet days (i1: 2 negative of 10, sponsored by c1; i2: 1 of 10, organic), then `today`."""
    rows = []
    for back in range(1, 8):
        day = DAY - dt.timedelta(days=back)
        rows += comments(day, "i1", "c1", negative=2, neutral=3, positive=5)
        rows += comments(day, "i2", None, negative=1, neutral=4, positive=5)
    return pd.DataFrame(rows + today)


def test_counts_hold_every_label_with_zeros_and_skip_missing_keys():
    scored = pd.DataFrame(comments(DAY, "i1", "c1", negative=3, positive=1)
                          + comments(DAY, "i2", None, neutral=2)
                          + [{"event_date": DAY, "item_id": "i2", "campaign_id": None, "predicted_label": None}])
    counts = daily_label_counts(scored, LABELS, GRAINS).set_index(["grain", "key", "label"])
    assert counts.loc[("item", "i1", "negative"), "label_comments"] == 3
    assert counts.loc[("item", "i1", "neutral"), "label_comments"] == 0
    assert (counts.loc[("item", "i1"), "comments"] == 4).all()
    assert (counts.loc[("item", "i2"), "comments"] == 2).all()  # the unscored comment is not counted
    assert set(counts.loc["campaign"].index.get_level_values("key")) == {"c1"}  # organic i2 has no campaign
    assert len(counts) == 3 * 3  # i1, i2, c1 x three labels


def test_a_negative_surge_on_one_item_is_flagged_and_its_campaign_too():
    today = (comments(DAY, "i1", "c1", negative=30, neutral=5, positive=5)
             + comments(DAY, "i2", None, negative=1, neutral=4, positive=5))
    out = detect_surges(daily_label_counts(week_then(today), LABELS, GRAINS))
    today_rows = out[out["event_date"] == DAY].set_index(["grain", "key", "label"])
    i1 = today_rows.loc[("item", "i1", "negative")]
    assert i1["share"] == pytest.approx(30 / 40)
    # own history 14/70 shrunk toward all items' 21/140 with 20 pseudo-comments
    assert i1["baseline_share"] == pytest.approx((14 + 20 * 21 / 140) / (70 + 20))
    assert i1["is_surge"]
    assert today_rows.loc[("campaign", "c1", "negative"), "is_surge"]
    flagged = today_rows[today_rows["is_surge"]]
    assert set(flagged.index) == {("item", "i1", "negative"), ("campaign", "c1", "negative")}
    assert not out[out["event_date"] < DAY]["is_surge"].any()


def test_too_few_comments_or_a_small_rise_is_not_a_surge():
    few = comments(DAY, "i1", "c1", negative=9, positive=1)  # 90% negative, but 10 comments < 20
    small = comments(DAY, "i2", None, negative=8, neutral=16, positive=16)  # 20% vs ~10%: lift < 0.15
    out = detect_surges(daily_label_counts(week_then(few + small), LABELS, GRAINS))
    assert not out["is_surge"].any()
    looser = detect_surges(daily_label_counts(week_then(few + small), LABELS, GRAINS),
                           SurgeRule(min_comments=5, min_lift=0.05, z_threshold=2.0))
    assert set(looser[looser["is_surge"]]["key"]) == {"i1", "c1"}  # i2's 0.20 vs ~0.11 stays under 2 sigma


def test_missing_columns_are_a_clear_error():
    with pytest.raises(ValueError, match="predicted_label"):
        daily_label_counts(pd.DataFrame({"event_date": [DAY], "item_id": ["i1"]}), LABELS, {"item": "item_id"})


def test_a_thin_baseline_window_is_no_baseline():
    """The day before the first landed day holds a late tail of 3 comments: no basis for calling a surge."""
    rows = comments(DAY - dt.timedelta(days=1), "i1", "c1", positive=3) + comments(DAY, "i1", "c1", negative=30)
    out = detect_surges(daily_label_counts(pd.DataFrame(rows), LABELS, GRAINS))
    assert out[out["event_date"] == DAY]["baseline_share"].isna().all()
    assert not out["is_surge"].any()
