"""Shared by the bench scripts: where results go and how peak memory is read."""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS_DIR = Path.home() / "attnflow-bench-results"


def write_results(name: str, results: dict) -> Path:
    """Print the figures and write them to ~/attnflow-bench-results/<name>.json (one file per benchmark)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(),
                           # other work on the machine skews timings: recorded so runs can be compared fairly
                           "load_average_1_5_15_at_end": [round(x, 2) for x in __import__("os").getloadavg()]},
               **results}
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    print(json.dumps(payload, indent=2))
    print(f"\nwritten to {path}")
    return path


def run_measured(command: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run a command in a fresh process tree; wall seconds and the peak RSS of its largest process (MiB)."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.call(sys.argv[1:])\n"
        "wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print('__MEASURE__' + json.dumps({'rc': rc, 'wall_s': wall, 'peak_rss_mib': peak}))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *command], env=env, cwd=cwd, capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("__MEASURE__")), None)
    if line is None or json.loads(line[len("__MEASURE__"):])["rc"] != 0:
        raise RuntimeError(f"{command} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(line[len("__MEASURE__"):])
