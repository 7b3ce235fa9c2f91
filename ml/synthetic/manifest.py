"""The per-day manifest: exact counts of what landed, so loader tests can assert against it.

Every line of a day's event files is exactly one of: a first delivery of a valid event, a duplicate
delivery, a malformed line, an object lacking a required field, or an event of an unknown type:

    total_lines   = clean_events + duplicate_lines + malformed_lines + missing_field_lines + unknown_type_lines
    loaded rows   = total_lines - malformed_lines - missing_field_lines - unknown_type_lines
                  = clean_events + duplicate_lines
    distinct ids  = clean_events          (after deduplication)
    late_events  <= clean_events          (valid events whose event_ts lies on day - 1)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class DayManifest:
    day: str  # the landing day dt, YYYY-MM-DD
    seed: int
    events_per_day: int
    file_format: str
    chunk_events: int
    dirt: dict[str, float]  # the DirtConfig rates used
    files: list[str]  # event part files, relative to the landing folder
    annotation_file: str  # relative to the landing folder
    total_lines: int = 0
    clean_events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)  # distinct valid events per event_type
    late_events: int = 0
    late_event_counts: dict[str, int] = field(default_factory=dict)
    duplicate_lines: int = 0
    malformed_lines: int = 0
    missing_field_lines: int = 0
    missing_fields: dict[str, int] = field(default_factory=dict)  # which required field was missing
    unknown_type_lines: int = 0
    unknown_types: dict[str, int] = field(default_factory=dict)
    annotations: int = 0
    noisy_annotations: int = 0
    survey_file: str = ""  # wellbeing survey answers of the day, relative to the landing folder
    survey_responses: int = 0  # rows in the survey file
    invalid_survey_responses: int = 0  # rows with an item blank or out of range (a loader quarantines them)

    @property
    def expected_loaded_rows(self) -> int:
        """Rows a loader keeps before deduplication (quarantine takes the rest)."""
        return self.total_lines - self.malformed_lines - self.missing_field_lines - self.unknown_type_lines

    @property
    def quarantined_lines(self) -> int:
        return self.malformed_lines + self.missing_field_lines + self.unknown_type_lines

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "DayManifest":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))
