"""Deterministic synthetic behaviour logs for attnflow (see docs/event-contract.md).

    generate_day(day, landing_dir, truth_dir, events_per_day=20_000, seed=7, file_format="jsonl")

writes `<landing>/events/dt=DAY/part-*.{jsonl,jsonl.gz,parquet}`, `<landing>/annotations/dt=DAY.csv` and
`<landing>/surveys/dt=DAY.csv` (wellbeing-survey answers),
plus the ground truth the data was drawn from under `truth_dir` (never inside the landing folder).
"""

from .dirt import DirtConfig
from .generator import generate_day, generate_days
from .manifest import DayManifest
from .world import TOPICS, World, build_world
from .writer import FILE_FORMATS

__all__ = [
    "DayManifest", "DirtConfig", "FILE_FORMATS", "TOPICS", "World", "build_world", "generate_day", "generate_days",
]
