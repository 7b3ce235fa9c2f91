"""Tests of the synthetic behaviour-log generator (ml/synthetic) against the raw-log contract.

The files are inspected the way a loader would see them (raw lines, parsed with json), and every count in the
manifest is re-derived independently from those lines.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
import inspect
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from ml.synthetic import TOPICS, DayManifest, DirtConfig, build_world, generate_day, generate_days

REPO = Path(__file__).resolve().parents[1]
START = date(2026, 3, 1)
DAYS = 3
VOLUME = 20_000
CHUNK = 8_000  # several part files per day
EVENT_TYPES = {"impression", "click", "view", "like", "share", "comment", "search", "purchase"}
REQUIRED = ("event_id", "event_ts", "event_type", "user_id")
TS_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


# ---- reading the landing folder like a loader --------------------------------------------------------------


@dataclass
class DayFiles:
    """One landing day as parsed from its files."""

    lines: list[str] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)  # valid events, duplicates included
    malformed: int = 0
    missing: Counter = field(default_factory=Counter)
    unknown: Counter = field(default_factory=Counter)

    @property
    def distinct(self) -> dict[str, dict]:
        return {e["event_id"]: e for e in self.events}


def raw_records(path: Path) -> list[str | dict]:
    """Lines of a JSON-lines file (plain or gzip) as text, or rows of a Parquet file as dicts."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="\n") as f:
        return f.read().split("\n")[:-1]


def read_day(landing: Path, day: date) -> DayFiles:
    out = DayFiles()
    for path in sorted((landing / "events" / f"dt={day}").iterdir()):
        for record in raw_records(path):
            if isinstance(record, str):
                out.lines.append(record)
                try:
                    record = json.loads(record)
                except json.JSONDecodeError:
                    out.malformed += 1
                    continue
                if not isinstance(record, dict):
                    out.malformed += 1
                    continue
            absent = [f for f in REQUIRED if record.get(f) is None]
            if absent:
                assert len(absent) == 1, record
                out.missing[absent[0]] += 1
            elif record["event_type"] not in EVENT_TYPES:
                out.unknown[record["event_type"]] += 1
            else:
                out.events.append(record)
    return out


CLICK_DELAY_MIN, CLICK_DELAY_MAX = timedelta(seconds=1), timedelta(minutes=5)  # sessions.py draws 1 s .. 240 s


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def manifest_of(truth: Path, day: date) -> DayManifest:
    return DayManifest.read(truth / f"dt={day}" / "manifest.json")


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path, list[DayManifest]]:
    root = tmp_path_factory.mktemp("run")
    manifests = generate_days(START, DAYS, root / "landing", root / "truth", events_per_day=VOLUME,
                              chunk_events=CHUNK)
    return root / "landing", root / "truth", manifests


@pytest.fixture(scope="module")
def parsed(run) -> dict[date, DayFiles]:
    landing, _, _ = run
    return {START + timedelta(days=i): read_day(landing, START + timedelta(days=i)) for i in range(DAYS)}


# ---- determinism -------------------------------------------------------------------------------------------


def test_same_seed_and_day_give_identical_bytes(run, tmp_path):
    landing, truth, _ = run
    generate_days(START, DAYS, tmp_path / "landing", tmp_path / "truth", events_per_day=VOLUME, chunk_events=CHUNK)
    assert all_files(tmp_path / "landing") == all_files(landing)
    assert all_files(tmp_path / "truth") == all_files(truth)


def test_regenerating_a_day_replaces_it(tmp_path):
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    generate_day(START, landing, truth, events_per_day=5_000, chunk_events=1_000)
    first = all_files(tmp_path)
    (landing / "events" / f"dt={START}" / "stale.jsonl").write_text("{}\n")
    generate_day(START, landing, truth, events_per_day=5_000, chunk_events=2_000)  # fewer part files
    generate_day(START, landing, truth, events_per_day=5_000, chunk_events=1_000)
    assert all_files(tmp_path) == first


def test_other_day_or_seed_gives_other_data(run, tmp_path):
    landing, _, _ = run
    day1, day2 = (landing / "events" / f"dt={START + timedelta(days=d)}" / "part-00000.jsonl" for d in (0, 1))
    assert day1.read_bytes() != day2.read_bytes()
    generate_day(START, tmp_path / "l", tmp_path / "t", events_per_day=VOLUME, chunk_events=CHUNK, seed=8)
    assert (tmp_path / "l" / "events" / f"dt={START}" / "part-00000.jsonl").read_bytes() != day1.read_bytes()


def test_world_depends_on_seed_only_and_scales_with_volume():
    a, b = build_world(7, VOLUME), build_world(7, VOLUME)
    assert np.array_equal(a.user_interest, b.user_interest)
    assert not np.array_equal(a.user_attitude, build_world(8, VOLUME).user_attitude)
    assert build_world(7, 1_000_000).n_users > a.n_users >= 200


# ---- manifest == files -------------------------------------------------------------------------------------


def test_manifest_counts_equal_the_files(run, parsed):
    landing, truth, manifests = run
    for day, files in parsed.items():
        m = manifest_of(truth, day)
        assert m == manifests[(day - START).days]
        on_disk = (landing / "events" / f"dt={day}").iterdir()
        assert m.files == sorted(p.relative_to(landing).as_posix() for p in on_disk)
        assert len(m.files) > 1
        distinct = files.distinct
        assert m.total_lines == len(files.lines)
        assert m.malformed_lines == files.malformed > 0
        assert m.missing_field_lines == sum(files.missing.values()) > 0
        assert m.missing_fields == {f: files.missing.get(f, 0) for f in REQUIRED}
        assert m.unknown_type_lines == sum(files.unknown.values()) > 0
        assert m.unknown_types == {t: files.unknown.get(t, 0) for t in m.unknown_types}
        assert m.clean_events == len(distinct)
        assert m.duplicate_lines == len(files.events) - len(distinct) > 0
        assert m.expected_loaded_rows == len(files.events)
        per_type = Counter(e["event_type"] for e in distinct.values())
        assert m.event_counts == {t: per_type[t] for t in m.event_counts} and set(m.event_counts) == EVENT_TYPES
        late = [e for e in distinct.values() if parse_ts(e["event_ts"]).date() == day - timedelta(days=1)]
        assert m.late_events == len(late) > 0
        assert m.late_event_counts["impression"] == sum(e["event_type"] == "impression" for e in late)
        # realistic shares of each defect
        assert 0.003 < m.duplicate_lines / m.clean_events < 0.008
        assert 0.006 < m.late_events / m.clean_events < 0.016
        assert 0.7 * VOLUME < m.clean_events < 1.3 * VOLUME


def test_duplicates_repeat_an_earlier_line_verbatim(parsed):
    for files in parsed.values():
        seen: dict[str, str] = {}
        for line in files.lines:
            try:
                record = json.loads(line)
                event_id = record["event_id"]
            except (json.JSONDecodeError, TypeError, KeyError):
                continue
            if event_id in seen:
                assert line == seen[event_id]
            seen[event_id] = line


# ---- contract ----------------------------------------------------------------------------------------------


def test_clean_events_satisfy_the_contract(parsed):
    countries = {"US", "IN", "BR", "GB", "DE", "ID", "MX", "FR", "JP", "NG", "TR", "PH"}
    for day, files in parsed.items():
        day_start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        for e in files.distinct.values():
            kind = e["event_type"]
            assert all(isinstance(e[f], str) for f in REQUIRED)
            assert TS_PATTERN.match(e["event_ts"]), e
            ts = parse_ts(e["event_ts"])
            assert day_start - timedelta(days=1) <= ts < day_start + timedelta(days=1)
            if ts < day_start:  # late: only from the evening of the day before
                assert ts.hour >= 18
            assert re.fullmatch(r"u\d{6}", e["user_id"])
            assert e["device"] in {"ios", "android", "web"}
            assert e["network"] in {"5g", "4g", "wifi"}
            assert e["geo"] in countries
            assert e.get("session_hint") is None or isinstance(e["session_hint"], str)
            if kind in {"view", "like", "share", "comment"}:
                assert re.fullmatch(r"i\d{5}", e["item_id"]) and e["properties"]["topic"] in TOPICS
            if kind in {"impression", "click", "purchase"}:
                assert re.fullmatch(r"a\d{4}", e["ad_id"]) and re.fullmatch(r"c\d{3}", e["campaign_id"])
            if kind in {"impression", "click"}:
                assert isinstance(e["slot"], int) and 1 <= e["slot"] <= 4
                assert isinstance(e["request_id"], str)
            if kind == "impression":
                assert 0 < e["properties"]["propensity"] <= 1 and e["properties"]["topic"] in TOPICS
                candidates = e["properties"]["candidates"]
                assert len(set(candidates)) == 4 and e["ad_id"] in candidates
            if kind in {"comment", "search"}:
                assert isinstance(e["text"], str) and e["text"].strip()
            if kind == "purchase":
                assert e["properties"]["amount"] > 0
            if kind in {"view", "click"}:
                assert isinstance(e["dwell_ms"], int) and e["dwell_ms"] >= 0
            for key, value in e.items():
                if value is None:
                    continue
                assert key in {*REQUIRED, "session_hint", "item_id", "ad_id", "campaign_id", "slot", "request_id",
                               "device", "network", "geo", "dwell_ms", "text", "properties"}


def test_every_click_follows_its_impression(parsed):
    for files in parsed.values():
        events = files.distinct.values()
        impressions = {e["request_id"]: e for e in events if e["event_type"] == "impression"}
        assert len(impressions) == sum(e["event_type"] == "impression" for e in events)  # unique request ids
        clicks = [e for e in events if e["event_type"] == "click"]
        assert clicks
        for click in clicks:
            imp = impressions[click["request_id"]]
            for key in ("ad_id", "campaign_id", "slot", "user_id", "session_hint"):
                assert click[key] == imp[key]
            # Event time in the logs, not wall-clock: the generator clicks 1 s .. 4 min after the impression.
            click_delay_in_logs = parse_ts(click["event_ts"]) - parse_ts(imp["event_ts"])
            assert CLICK_DELAY_MIN <= click_delay_in_logs <= CLICK_DELAY_MAX


# ---- the signal models will learn ---------------------------------------------------------------------------


def test_clicks_follow_the_true_click_probability(run, parsed):
    _, truth, manifests = run
    tables = [pq.read_table(truth / f"dt={m.day}" / "impressions.parquet").to_pandas() for m in manifests]
    for m, table in zip(manifests, tables):
        assert len(table) == m.event_counts["impression"]
        assert int(table.clicked.sum()) == m.event_counts["click"]
        assert (table.event_date.astype(str) == str(date.fromisoformat(m.day) - timedelta(days=1))).sum() == \
            m.late_event_counts["impression"]
    allimp = np.concatenate([t.true_click_prob.to_numpy() for t in tables])
    clicked = np.concatenate([t.clicked.to_numpy() for t in tables])
    p = allimp.mean()
    assert 0.02 < p < 0.05
    assert abs(clicked.mean() - p) < 4 * np.sqrt(p * (1 - p) / len(allimp))
    # slot 1 is the best position, and truth agrees with the logged propensities
    table = tables[0]
    assert table[table.slot == 1].true_click_prob.mean() > table[table.slot == 4].true_click_prob.mean()
    logged = {e["event_id"]: e["properties"]["propensity"] for e in parsed[START].distinct.values()
              if e["event_type"] == "impression"}
    assert np.allclose(table.propensity.to_numpy(), [logged[i] for i in table.event_id])
    # per candidate: the logging probabilities form a distribution that gives the shown ad its logged propensity,
    # and the shown ad's true click probability is the impression's
    probs = np.vstack(table.candidate_propensities.to_numpy())
    shown = np.array([list(c).index(a) for c, a in zip(table.candidate_ad_ids, table.ad_id)])
    rows = np.arange(len(table))
    assert np.allclose(probs.sum(axis=1), 1) and np.allclose(probs[rows, shown], table.propensity)
    assert np.allclose(np.vstack(table.candidate_true_click_probs.to_numpy())[rows, shown], table.true_click_prob)


def test_annotations_are_a_noisy_sample_of_the_true_sentiment(run):
    landing, truth, manifests = run
    agree = total = 0
    for m in manifests:
        with open(landing / m.annotation_file, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["event_id", "label", "annotator_id", "annotated_at"]
        assert len(rows) == m.annotations
        comments = pq.read_table(truth / f"dt={m.day}" / "comments.parquet").to_pandas().set_index("event_id")
        assert len(comments) == m.event_counts["comment"]
        assert 0.15 < len(rows) / len(comments) < 0.35
        for row in rows:
            truth_row = comments.loc[row["event_id"]]
            assert row["label"] in {"negative", "neutral", "positive"}
            assert truth_row.annotated_label == row["label"]
            assert bool(truth_row.label_is_noisy) == (row["label"] != truth_row.true_sentiment)
            assert TS_PATTERN.match(row["annotated_at"])
            agree += row["label"] == truth_row.true_sentiment
            total += 1
        assert comments.annotated_label.notna().sum() == len(rows)
        assert comments.label_is_noisy.eq(True).sum() == m.noisy_annotations
        shares = comments.true_sentiment.value_counts(normalize=True)
        assert all(0.15 < shares[s] < 0.6 for s in ("negative", "neutral", "positive"))
    assert 0.88 < agree / total < 0.98


def test_comment_and_search_text_is_varied_and_sometimes_personal(parsed):
    texts = [e["text"] for f in parsed.values() for e in f.distinct.values() if e["event_type"] == "comment"]
    queries = [e["text"] for f in parsed.values() for e in f.distinct.values() if e["event_type"] == "search"]
    assert len(set(texts)) > 0.7 * len(texts)
    email = re.compile(r"[\w.]+@[\w.]+\.\w+")
    assert any(email.search(t) for t in texts)
    assert any(re.search(r"\d{3}.?\d{3,}", t) for t in texts if not email.search(t))  # phone numbers
    assert any(email.search(q) for q in queries)
    assert any(t.lower().startswith("not ") for t in texts)
    assert len(set(queries)) > 200


def test_ground_truth_stays_outside_the_landing_folder(run):
    landing, truth, _ = run
    assert not list(landing.rglob("*.parquet")) and not list(landing.rglob("manifest.json"))
    assert {p.name for p in (landing / "annotations").iterdir()} == {f"dt={START + timedelta(days=d)}.csv"
                                                                    for d in range(DAYS)}
    users = pq.read_table(truth / "world" / "users.parquet").to_pandas()
    assert {"user_id", "attitude", "click_propensity", *(f"interest_{t}" for t in TOPICS)} <= set(users.columns)
    assert np.allclose(users[[f"interest_{t}" for t in TOPICS]].sum(axis=1), 1.0, atol=1e-4)
    assert {"item_id", "topic", "quality"} <= set(pq.read_schema(truth / "world" / "items.parquet").names)
    assert {"ad_id", "campaign_id", "topic", "appeal"} <= set(pq.read_schema(truth / "world" / "ads.parquet").names)


# ---- other formats, clean mode, CLI -------------------------------------------------------------------------


def test_gzip_output_is_real_gzip_and_matches_its_manifest(tmp_path):
    m = generate_day(START, tmp_path / "l", tmp_path / "t", events_per_day=VOLUME, chunk_events=CHUNK,
                     file_format="jsonl.gz")
    for name in m.files:
        assert name.endswith(".jsonl.gz") and (tmp_path / "l" / name).read_bytes()[:2] == b"\x1f\x8b"
    files = read_day(tmp_path / "l", START)
    assert m.total_lines == len(files.lines)
    assert m.malformed_lines == files.malformed > 0  # appended as a second gzip member
    assert m.clean_events == len(files.distinct)
    assert m.duplicate_lines == len(files.events) - len(files.distinct)


def test_parquet_output_has_no_malformed_lines_and_nulls_for_missing_fields(tmp_path):
    m = generate_day(START, tmp_path / "l", tmp_path / "t", events_per_day=VOLUME, chunk_events=CHUNK,
                     file_format="parquet")
    files = read_day(tmp_path / "l", START)
    rows = sum(pq.read_metadata(tmp_path / "l" / name).num_rows for name in m.files)
    assert m.malformed_lines == 0
    assert m.total_lines == rows == len(files.events) + sum(files.missing.values()) + sum(files.unknown.values())
    assert m.missing_field_lines == sum(files.missing.values()) > 0
    assert m.clean_events == len(files.distinct)
    assert m.late_events == sum(parse_ts(e["event_ts"]).date() < START for e in files.distinct.values())
    schema = pq.read_schema(tmp_path / "l" / m.files[0])
    assert {"event_id", "event_ts", "event_type", "user_id", "slot", "properties"} <= set(schema.names)
    generate_day(START, tmp_path / "l2", tmp_path / "t2", events_per_day=VOLUME, chunk_events=CHUNK,
                 file_format="parquet")
    assert all_files(tmp_path / "l2") == all_files(tmp_path / "l")


def test_clean_config_gives_clean_data(tmp_path):
    m = generate_day(START, tmp_path / "l", tmp_path / "t", events_per_day=5_000, dirt=DirtConfig.none())
    files = read_day(tmp_path / "l", START)
    assert m.total_lines == m.clean_events == len(files.lines) == len(files.distinct)
    assert m.late_events == m.duplicate_lines == m.malformed_lines == m.missing_field_lines == 0
    assert m.unknown_type_lines == 0
    assert all(parse_ts(e["event_ts"]).date() == START for e in files.events)


def test_cli_generates_days(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ml.synthetic", "--landing", str(tmp_path / "l"), "--truth", str(tmp_path / "t"),
         "--start", "2026-03-01", "--days", "2", "--events-per-day", "3000", "--seed", "7", "--format", "jsonl.gz"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("2026-03-0") == 2
    for day in ("2026-03-01", "2026-03-02"):
        m = DayManifest.read(tmp_path / "t" / f"dt={day}" / "manifest.json")
        assert m.file_format == "jsonl.gz" and m.seed == 7 and m.events_per_day == 3000
        assert all((tmp_path / "l" / name).exists() for name in m.files)
    # the CLI and the library produce the same bytes
    generate_day(START, tmp_path / "l2", tmp_path / "t2", events_per_day=3000, file_format="jsonl.gz")
    day_folder = Path("events") / f"dt={START}"
    assert all_files(tmp_path / "l2" / day_folder) == all_files(tmp_path / "l" / day_folder)


def test_rejects_unknown_format(tmp_path):
    with pytest.raises(ValueError):
        generate_day(START, tmp_path / "l", tmp_path / "t", file_format="csv")


def test_comments_on_sponsored_items_carry_their_campaign(parsed):
    """About a fifth of the items are branded content; a comment on one names the sponsoring campaign."""
    from ml.synthetic.world import SPONSORED_ITEM_SHARE

    world = build_world(inspect.signature(generate_day).parameters["seed"].default, VOLUME)
    sponsor = {f"i{i:05d}": (f"c{c:03d}" if c >= 0 else None) for i, c in enumerate(world.item_campaign.tolist())}
    assert 0.5 * SPONSORED_ITEM_SHARE < np.mean(world.item_campaign >= 0) < 1.5 * SPONSORED_ITEM_SHARE
    sponsored_items = np.flatnonzero(world.item_campaign >= 0)
    topic_has_campaign = np.isin(world.item_topic[sponsored_items], world.campaign_topic)
    same_topic = world.campaign_topic[world.item_campaign[sponsored_items]] == world.item_topic[sponsored_items]
    assert np.array_equal(same_topic, topic_has_campaign)  # a campaign of the item's own topic when there is one
    comments = [e for f in parsed.values() for e in f.distinct.values() if e["event_type"] == "comment"]
    assert all(e.get("campaign_id") == sponsor[e["item_id"]] for e in comments)
    assert 0 < sum(e.get("campaign_id") is not None for e in comments) < len(comments)
    views = [e for f in parsed.values() for e in f.distinct.values() if e["event_type"] == "view"]
    assert all(e.get("campaign_id") is None for e in views)
