"""What has landed: one fingerprint per landing-day folder, so a sensor can tell new or changed days apart."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from orchestration.lib.raw_events_loader import list_event_files

_PARTITION_FOLDER = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


def landed_partitions(events_dir: Path) -> dict[dt.date, str]:
    """Map each ``dt=YYYY-MM-DD`` folder that holds event files to a fingerprint of its files.

    The fingerprint changes when a file is added, replaced or grows, so re-delivered data triggers a new run while
    an unchanged day never does.
    """
    found: dict[dt.date, str] = {}
    if not events_dir.is_dir():
        return found
    for folder in sorted(events_dir.iterdir()):
        match = _PARTITION_FOLDER.match(folder.name)
        if not match or not folder.is_dir():
            continue
        files = list_event_files(folder)
        if not files:
            continue
        digest = hashlib.sha1()
        for f in files:
            stat = f.stat()
            digest.update(f"{f.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        found[dt.date.fromisoformat(match.group(1))] = digest.hexdigest()[:16]
    return found
