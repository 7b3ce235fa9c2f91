"""Command line: python -m ml.synthetic --landing DIR --truth DIR --start 2026-03-01 --days 3 ..."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from .dirt import DirtConfig
from .generator import generate_day
from .surveys import SURVEY_SHARE
from .writer import FILE_FORMATS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.synthetic", description=__doc__)
    parser.add_argument("--landing", type=Path, required=True, help="landing folder (events/, annotations/)")
    parser.add_argument("--truth", type=Path, required=True, help="ground-truth folder, outside the landing one")
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--events-per-day", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", dest="file_format", choices=FILE_FORMATS, default="jsonl")
    parser.add_argument("--chunk-events", type=int, default=250_000)
    parser.add_argument("--survey-share", type=float, default=SURVEY_SHARE,
                        help="share of all users answering the wellbeing survey each day")
    parser.add_argument("--clean", action="store_true", help="no dirty data (no duplicates, late or bad lines)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dirt = DirtConfig.none() if args.clean else DirtConfig()
    for offset in range(args.days):
        day = date.fromordinal(args.start.toordinal() + offset)
        started = time.perf_counter()
        m = generate_day(day, args.landing, args.truth, events_per_day=args.events_per_day, seed=args.seed,
                         file_format=args.file_format, dirt=dirt, chunk_events=args.chunk_events,
                         survey_share=args.survey_share)
        seconds = time.perf_counter() - started
        print(f"{m.day}: {m.total_lines} lines ({m.clean_events} clean, {m.late_events} late, "
              f"{m.duplicate_lines} duplicate, {m.quarantined_lines} bad), {m.annotations} annotations, "
              f"{m.survey_responses} survey answers, "
              f"{len(m.files)} files, {seconds:.1f}s")
    return 0
