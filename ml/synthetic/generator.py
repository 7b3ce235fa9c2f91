"""Generating a day: simulate, dirty, write and account for it, chunk by chunk.

Each chunk draws from its own random stream, seeded by (seed, day, chunk, purpose), so chunks are
independent, a day is reproducible byte for byte, and memory stays bounded by the chunk size.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np

from .annotations import AnnotationCsv, annotate
from .dirt import REQUIRED_FIELDS, DirtConfig, DirtPlan, plan_dirt, unknown_type_events
from .events import ALL_EVENT_TYPES, EVENT_TYPES, UNKNOWN_EVENT_TYPES, Events
from .manifest import DayManifest
from .sessions import (
    EVENTS_PER_SESSION, LATE_EVENTS_PER_SESSION, MS_PER_DAY, day_event_target, day_start_ms,
    simulate_day_sessions, simulate_late_sessions,
)
from .surveys import SURVEY_SHARE, survey_day, write_survey_csv
from .truth import DayTruth, day_truth_dir, write_survey_truth, write_world
from .world import World, build_world
from .writer import FILE_FORMATS, part_path, write_part

# Purposes of the per-chunk random streams; adding a purpose never changes the others.
_SESSIONS, _LATE, _DIRT, _LABELS, _SURVEYS = range(5)


def generate_day(
    day: date,
    landing_dir: Path,
    truth_dir: Path,
    *,
    events_per_day: int = 20_000,
    seed: int = 7,
    file_format: str = "jsonl",
    dirt: DirtConfig | None = None,
    chunk_events: int = 250_000,
    survey_share: float = SURVEY_SHARE,
) -> DayManifest:
    """Write one landing day (events, annotations, survey answers) and its ground truth; replaces earlier output
    of that day. `survey_share`: the share of all users answering the wellbeing survey that day."""
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format must be one of {FILE_FORMATS}, not {file_format!r}")
    if events_per_day <= 0 or chunk_events <= 0:
        raise ValueError("events_per_day and chunk_events must be positive")
    dirt = DirtConfig() if dirt is None else dirt
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    world = build_world(seed, events_per_day)
    write_world(world, truth_dir)

    events_dir = landing_dir / "events" / f"dt={day.isoformat()}"
    annotation_path = landing_dir / "annotations" / f"dt={day.isoformat()}.csv"
    survey_path = landing_dir / "surveys" / f"dt={day.isoformat()}.csv"
    for stale in (events_dir, day_truth_dir(truth_dir, day)):
        shutil.rmtree(stale, ignore_errors=True)
    events_dir.mkdir(parents=True)

    target = day_event_target(day, events_per_day)
    n_chunks = max(1, math.ceil(target / chunk_events))
    sessions_per_chunk = np.diff(np.linspace(0, round(target / EVENTS_PER_SESSION), n_chunks + 1).round()).astype(int)

    manifest = DayManifest(
        day=day.isoformat(), seed=seed, events_per_day=events_per_day, file_format=file_format,
        chunk_events=chunk_events, dirt=dirt.to_dict(), files=[],
        annotation_file=annotation_path.relative_to(landing_dir).as_posix(),
        survey_file=survey_path.relative_to(landing_dir).as_posix(),
    )
    tally = _Tally()
    con = duckdb.connect()
    try:
        with DayTruth(truth_dir, day) as truth, AnnotationCsv(annotation_path) as annotation_csv:
            for chunk, n_sessions in enumerate(sessions_per_chunk):
                path = part_path(events_dir, chunk, file_format)
                _generate_chunk(con, world, day, chunk, int(n_sessions), seed, dirt, file_format, path,
                                truth, annotation_csv, tally)
                manifest.files.append(path.relative_to(landing_dir).as_posix())
            manifest.annotations = annotation_csv.rows
    finally:
        con.close()
    tally.fill(manifest)
    survey = survey_day(world, _chunk_rng(seed, day, 0, _SURVEYS), day, survey_share)
    write_survey_csv(survey_path, survey)
    write_survey_truth(world, survey, truth_dir, day)
    manifest.survey_responses = len(survey.rows)
    manifest.invalid_survey_responses = int((~survey.valid).sum())
    manifest.write(day_truth_dir(truth_dir, day) / "manifest.json")
    return manifest


def generate_days(start: date, days: int, landing_dir: Path, truth_dir: Path, **kwargs) -> list[DayManifest]:
    """generate_day for `days` consecutive days starting at `start`."""
    return [generate_day(start + timedelta(days=i), landing_dir, truth_dir, **kwargs) for i in range(days)]


def _chunk_rng(seed: int, day: date, chunk: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, day.toordinal(), chunk, purpose])


def _generate_chunk(con: duckdb.DuckDBPyConnection, world: World, day: date, chunk: int, n_sessions: int,
                    seed: int, dirt: DirtConfig, file_format: str, path: Path, truth: DayTruth,
                    annotation_csv: AnnotationCsv, tally: "_Tally") -> None:
    main = simulate_day_sessions(world, _chunk_rng(seed, day, chunk, _SESSIONS), n_sessions, day, first_session=0)
    late_rng = _chunk_rng(seed, day, chunk, _LATE)
    n_late_sessions = late_rng.poisson(len(main) * dirt.late_rate / LATE_EVENTS_PER_SESSION)
    late = simulate_late_sessions(world, late_rng, n_late_sessions, day, first_session=n_sessions)
    events = Events.concat([main, late])

    dirt_rng = _chunk_rng(seed, day, chunk, _DIRT)
    unknown = unknown_type_events(dirt_rng, events, dirt.unknown_type_rate, day_start_ms(day) + MS_PER_DAY)
    events = Events.concat([events, unknown])
    plan = plan_dirt(dirt_rng, events, dirt, day_start_ms(day), allow_malformed=file_format != "parquet")
    labels = annotate(_chunk_rng(seed, day, chunk, _LABELS), events.sentiment, events.ts_ms)

    table = events.to_arrow()
    for name in ("label", "annotator", "noisy", "annotated_ms"):
        table = table.append_column(name, [getattr(labels, name)])
    lines = write_part(con, path, day, chunk, table, plan, file_format)
    annotation_csv.write(truth.add_chunk(con, chunk, table))
    tally.add(events, plan, lines, int(labels.noisy.sum()))


class _Tally:
    """Running counts for the manifest, derived from the same plan the writer followed."""

    def __init__(self) -> None:
        self.clean = np.zeros(len(ALL_EVENT_TYPES), dtype=np.int64)  # per event type code
        self.late = np.zeros(len(ALL_EVENT_TYPES), dtype=np.int64)
        self.unknown = np.zeros(len(ALL_EVENT_TYPES), dtype=np.int64)
        self.missing = np.zeros(len(REQUIRED_FIELDS), dtype=np.int64)
        self.total_lines = self.duplicate_lines = self.malformed_lines = self.noisy_annotations = 0

    def add(self, events: Events, plan: DirtPlan, lines: int, noisy_annotations: int) -> None:
        known = events.event_type < len(EVENT_TYPES)
        clean = known.copy()
        clean[plan.missing_rows] = False
        self.clean += _count(events.event_type[clean])
        self.late += _count(events.event_type[clean & events.late])
        self.unknown += _count(events.event_type[~known])
        self.missing += np.bincount(plan.missing_field, minlength=len(REQUIRED_FIELDS))
        self.total_lines += lines
        self.duplicate_lines += len(plan.duplicate_rows)
        self.malformed_lines += len(plan.truncated_rows) + len(plan.garbage_lines)
        self.noisy_annotations += noisy_annotations

    def fill(self, manifest: DayManifest) -> None:
        manifest.total_lines = self.total_lines
        manifest.event_counts = _by_name(EVENT_TYPES, self.clean)
        manifest.clean_events = sum(manifest.event_counts.values())
        manifest.late_event_counts = _by_name(EVENT_TYPES, self.late)
        manifest.late_events = sum(manifest.late_event_counts.values())
        manifest.duplicate_lines = self.duplicate_lines
        manifest.malformed_lines = self.malformed_lines
        manifest.missing_fields = _by_name(REQUIRED_FIELDS, self.missing)
        manifest.missing_field_lines = sum(manifest.missing_fields.values())
        manifest.unknown_types = _by_name(UNKNOWN_EVENT_TYPES, self.unknown[len(EVENT_TYPES):])
        manifest.unknown_type_lines = sum(manifest.unknown_types.values())
        manifest.noisy_annotations = self.noisy_annotations
        expected = (manifest.clean_events + manifest.duplicate_lines + manifest.malformed_lines
                    + manifest.missing_field_lines + manifest.unknown_type_lines)
        if expected != manifest.total_lines:  # the writer and the plan disagree: a bug, never data
            raise AssertionError(f"line accounting broken: {expected} planned vs {manifest.total_lines} written")


def _count(codes: np.ndarray) -> np.ndarray:
    return np.bincount(codes, minlength=len(ALL_EVENT_TYPES))


def _by_name(names: tuple[str, ...], counts: np.ndarray) -> dict[str, int]:
    return {name: int(c) for name, c in zip(names, counts)}
