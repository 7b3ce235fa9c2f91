"""A versioned model registry on the local file system, shared by every attnflow model (CTR, text, recommender).

    root/<model_name>/
        v0001/ ...artefacts..., metadata.json     one folder per registered version, never changed afterwards
        v0002/ ...                                (except metadata.json, which gains its promotion decisions)
        PROMOTED                                  the version serving now, e.g. "v0002"
        decisions.jsonl                           append-only log of every promotion decision and rollback

A new version is promoted only if it is not worse than the one serving, *measured on the same test days*: a
model's stored test metric comes from its own test window, and two windows differ in difficulty, so comparing
stored numbers would reward whichever model happened to be tested on easier days. `promote_if_not_worse`
therefore takes the current model's score on the candidate's test rows (or a function that scores any version
on them).

Writes are atomic (temp file / folder + rename), so a crash never leaves a half-written version or pointer, and
promotions are serialised with a file lock.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

METADATA_FILE = "metadata.json"
PROMOTED_FILE = "PROMOTED"
DECISIONS_FILE = "decisions.jsonl"
LOCK_FILE = ".lock"
_VERSION = re.compile(r"^v(\d{4,})$")


@dataclass
class PromotionDecision:
    """Why a version was (or was not) promoted; stored in decisions.jsonl and the version's metadata."""

    version: str
    promoted: bool
    reason: str
    metric: str | None
    higher_is_better: bool | None
    tolerance: float | None
    candidate_score: float | None
    current_version: str | None
    current_score: float | None
    decided_at: str
    action: str = "promote"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RegisteredModel:
    version: str
    path: Path  # the version folder: the artefacts and metadata.json
    metadata: dict


class ModelRegistry:
    def __init__(self, root: Path | str, model_name: str):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", model_name):
            raise ValueError(f"model name {model_name!r}: use letters, digits, '_', '-' and '.'")
        self.root = Path(root)
        self.model_name = model_name
        self.folder = self.root / model_name

    # ---- versions ----------------------------------------------------------------------------------------

    def register(self, source: Path | str | Callable[[Path], object], metadata: dict) -> str:
        """Store a new version: copy the folder `source`, or call `source(folder)` to write the artefacts (e.g.
        `model.save`). metadata (metrics, params, training window, data version, ...) is stored with version,
        model name, created_at and code_version added. Returns the version, e.g. "v0003"."""
        metadata = json.loads(json.dumps(metadata))  # fails early on what JSON cannot hold; a private copy
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.folder))
        try:
            if callable(source):
                source(staging)
            else:
                source = Path(source)
                if not source.is_dir():
                    raise FileNotFoundError(f"no such folder: {source}")
                shutil.copytree(source, staging, dirs_exist_ok=True)
            while True:  # another process may take the next number between our look and our rename
                version = self._next_version()
                record = {**metadata, "model_name": self.model_name, "version": version,
                          "created_at": _now(), "code_version": metadata.get("code_version") or code_version(),
                          "promotion_decisions": []}
                _write_json_atomic(staging / METADATA_FILE, record)
                try:
                    os.rename(staging, self.folder / version)
                    return version
                except OSError:
                    if not (self.folder / version).exists():
                        raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def versions(self) -> list[str]:
        """Registered versions, oldest first."""
        if not self.folder.exists():
            return []
        found = [p.name for p in self.folder.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda v: int(_VERSION.match(v).group(1)))

    def get(self, version: str) -> RegisteredModel:
        path = self.folder / version
        if not _VERSION.match(version) or not (path / METADATA_FILE).exists():
            raise KeyError(f"{self.model_name} has no version {version!r} (registered: {self.versions()})")
        return RegisteredModel(version, path, json.loads((path / METADATA_FILE).read_text()))

    def latest_version(self) -> str | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def promoted_version(self) -> str | None:
        """The version serving now, None before the first promotion."""
        pointer = self.folder / PROMOTED_FILE
        if not pointer.exists():
            return None
        return pointer.read_text().strip() or None

    def promoted(self) -> RegisteredModel | None:
        version = self.promoted_version()
        return self.get(version) if version else None

    def decisions(self) -> list[dict]:
        """Every promotion decision and rollback so far, oldest first."""
        log = self.folder / DECISIONS_FILE
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    # ---- promotion ---------------------------------------------------------------------------------------

    def promote_if_not_worse(
        self,
        version: str,
        metric: str,
        higher_is_better: bool,
        tolerance: float = 0.0,
        *,
        candidate_score: float | None = None,
        current_score: float | None = None,
        score_fn: Callable[[RegisteredModel], float] | None = None,
        must_beat: float | None = None,
        must_beat_name: str = "the baseline",
    ) -> PromotionDecision:
        """Promote `version` unless it is worse than the promoted one by more than `tolerance` (absolute, in the
        metric's units) on the same test rows.

        The candidate's score is `candidate_score`, else score_fn(candidate), else metadata["metrics"][metric].
        The current model's score is `current_score`, else score_fn(current); one of the two is required once a
        version is serving (its stored metric is from other test days). `must_beat` is a floor every version has to
        beat strictly, the first one included (e.g. a constant global-CTR prediction on the same test rows): a
        model no better than that has learnt nothing worth serving. Otherwise the first version is promoted.
        """
        if tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        with self._lock():
            candidate = self.get(version)
            current_version = self.promoted_version()
            if candidate_score is None:
                candidate_score = score_fn(candidate) if score_fn else _stored_metric(candidate, metric)
            settings = {"metric": metric, "higher_is_better": higher_is_better, "tolerance": tolerance,
                        "candidate_score": float(candidate_score), "current_version": current_version}

            if must_beat is not None and not _strictly_better(float(candidate_score), float(must_beat),
                                                                higher_is_better):
                reason = (f"no better than {must_beat_name}: {metric} {float(candidate_score):.6g} vs "
                          f"{float(must_beat):.6g}")
                return self._decide(version, False, reason, current_score=None, **settings)
            if current_version is None:
                return self._decide(version, True, "first promoted version", current_score=None, **settings)
            if current_version == version:
                return self._decide(version, False, "already promoted", current_score=None, **settings)
            if current_score is None:
                if score_fn is None:
                    raise ValueError(f"pass current_score or score_fn: {current_version}'s score on the same test "
                                     f"rows as {version} is needed (its stored metric is from other days)")
                current_score = score_fn(self.get(current_version))
            current_score = float(current_score)
            if math.isnan(candidate_score) or math.isnan(current_score):
                return self._decide(version, False, "a score is NaN", current_score=current_score, **settings)

            margin = candidate_score - current_score if higher_is_better else current_score - candidate_score
            direction = "higher" if higher_is_better else "lower"
            if margin >= -tolerance:
                reason = (f"not worse: {metric} {candidate_score:.6g} vs {current_score:.6g} of {current_version} "
                          f"({direction} is better, tolerance {tolerance:g})")
                return self._decide(version, True, reason, current_score=current_score, **settings)
            reason = (f"worse: {metric} {candidate_score:.6g} vs {current_score:.6g} of {current_version}, "
                      f"beyond the tolerance {tolerance:g} ({direction} is better)")
            return self._decide(version, False, reason, current_score=current_score, **settings)

    def promote(self, version: str, reason: str = "promoted by hand") -> PromotionDecision:
        """Promote without comparing (e.g. an operator's decision); recorded like any other decision."""
        with self._lock():
            self.get(version)
            return self._decide(version, True, reason, metric=None, higher_is_better=None, tolerance=None,
                                candidate_score=None, current_version=self.promoted_version(), current_score=None)

    def rollback(self) -> str:
        """Point PROMOTED back at the version promoted before the current one; returns it."""
        with self._lock():
            history = self._promotion_history()
            if len(history) < 2:
                raise ValueError(f"nothing to roll back to: promotion history of {self.model_name} is {history}")
            current, previous = history[-1], history[-2]
            self._decide(previous, True, f"rollback from {current}", metric=None, higher_is_better=None,
                         tolerance=None, candidate_score=None, current_version=current, current_score=None,
                         action="rollback")
            return previous

    def _promotion_history(self) -> list[str]:
        """The stack of serving versions, replayed from the decision log: promotions push, rollbacks pop."""
        stack: list[str] = []
        for entry in self.decisions():
            if entry.get("action") == "rollback":
                stack.pop()
            elif entry.get("promoted"):
                stack.append(entry["version"])
        return stack

    def _decide(self, version: str, promoted: bool, reason: str, *, action: str = "promote",
                **fields) -> PromotionDecision:
        decision = PromotionDecision(version=version, promoted=promoted, reason=reason, decided_at=_now(),
                                     action=action, **fields)
        entry = decision.to_dict()
        with open(self.folder / DECISIONS_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
            log.flush()
            os.fsync(log.fileno())
        metadata_path = self.folder / version / METADATA_FILE
        metadata = json.loads(metadata_path.read_text())
        metadata.setdefault("promotion_decisions", []).append(entry)
        _write_json_atomic(metadata_path, metadata)
        if promoted:
            _write_text_atomic(self.folder / PROMOTED_FILE, version + "\n")
        return decision

    def _next_version(self) -> str:
        versions = self.versions()
        number = int(_VERSION.match(versions[-1]).group(1)) + 1 if versions else 1
        return f"v{number:04d}"

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK_FILE, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def code_version() -> str:
    """The git commit of this checkout when there is one, else the installed attnflow package version."""
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5)
        if commit.returncode == 0 and commit.stdout.strip():
            return f"git:{commit.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import version
        return f"attnflow=={version('attnflow')}"
    except Exception:  # not installed: still register, but say so
        return "unknown"


def _stored_metric(model: RegisteredModel, metric: str) -> float:
    try:
        return float(model.metadata["metrics"][metric])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{model.version} has no numeric metadata['metrics'][{metric!r}]; pass candidate_score")


def _strictly_better(score: float, than: float, higher_is_better: bool) -> bool:
    """False for NaN either side: an unscorable model is not better than anything."""
    return score > than if higher_is_better else score < than


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, data: dict) -> None:
    _write_text_atomic(path, json.dumps(data, indent=2, default=str))


def _write_text_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
