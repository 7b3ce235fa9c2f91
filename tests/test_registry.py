"""ml.registry: versions, metadata, promotion on the same test rows, the decision log and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml.registry import DECISIONS_FILE, PROMOTED_FILE, ModelRegistry


def artefacts(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.txt").write_text(text)
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "maps.json").write_text("{}")
    return folder


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "registry", "ctr")


def test_register_copies_artefacts_into_numbered_versions_with_metadata(registry, tmp_path):
    source = artefacts(tmp_path / "run1", "first")
    v1 = registry.register(source, {"metrics": {"auc": 0.70}, "params": {"num_leaves": 7},
                                    "training_window": ["2026-03-01", "2026-03-04"], "data_version": "d1"})
    v2 = registry.register(lambda folder: artefacts(folder, "second"), {"metrics": {"auc": 0.71}})
    assert (v1, v2) == ("v0001", "v0002")
    assert registry.versions() == ["v0001", "v0002"]
    first = registry.get(v1)
    assert (first.path / "model.txt").read_text() == "first"
    assert (first.path / "sub" / "maps.json").exists()
    assert (registry.get(v2).path / "model.txt").read_text() == "second"
    meta = first.metadata
    assert meta["metrics"] == {"auc": 0.70} and meta["data_version"] == "d1"
    assert meta["version"] == "v0001" and meta["model_name"] == "ctr"
    assert meta["created_at"] and meta["code_version"]
    assert json.loads((first.path / "metadata.json").read_text()) == meta
    source_after = (source / "model.txt").read_text()
    assert source_after == "first"  # the source folder is copied, not moved
    assert not [p for p in registry.folder.iterdir() if p.name.startswith(".staging")]
    with pytest.raises(KeyError, match="v0009"):
        registry.get("v0009")


def test_a_failed_register_leaves_no_version(registry):
    def broken_writer(folder: Path):
        (folder / "half.txt").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        registry.register(broken_writer, {})
    with pytest.raises(TypeError):
        registry.register(lambda folder: None, {"not json": object()})
    assert registry.versions() == []
    assert not [p for p in registry.folder.iterdir() if p.name.startswith(".staging")]


def test_first_version_is_promoted(registry, tmp_path):
    v1 = registry.register(artefacts(tmp_path / "a", "a"), {"metrics": {"logloss": 0.16}})
    assert registry.promoted_version() is None
    decision = registry.promote_if_not_worse(v1, "logloss", higher_is_better=False, tolerance=0.0)
    assert decision.promoted and decision.reason == "first promoted version"
    assert decision.candidate_score == pytest.approx(0.16)
    assert registry.promoted_version() == v1
    assert (registry.folder / PROMOTED_FILE).read_text().strip() == v1


def test_worse_model_is_refused_and_the_decision_recorded(registry, tmp_path):
    v1 = registry.register(artefacts(tmp_path / "a", "a"), {"metrics": {"auc": 0.70}})
    registry.promote_if_not_worse(v1, "auc", higher_is_better=True)
    v2 = registry.register(artefacts(tmp_path / "b", "b"), {"metrics": {"auc": 0.65}})
    # the serving model, re-scored on v2's test days, gets 0.69
    decision = registry.promote_if_not_worse(v2, "auc", higher_is_better=True, tolerance=0.01, current_score=0.69)
    assert not decision.promoted
    assert decision.candidate_score == pytest.approx(0.65) and decision.current_score == pytest.approx(0.69)
    assert decision.current_version == v1 and "worse" in decision.reason
    assert registry.promoted_version() == v1
    recorded = registry.get(v2).metadata["promotion_decisions"]
    assert len(recorded) == 1 and recorded[0]["promoted"] is False and recorded[0]["current_score"] == 0.69
    log = [json.loads(line) for line in (registry.folder / DECISIONS_FILE).read_text().splitlines()]
    assert [e["version"] for e in log] == [v1, v2] and [e["promoted"] for e in log] == [True, False]


def test_not_worse_within_tolerance_is_accepted_in_both_directions(registry, tmp_path):
    v1 = registry.register(artefacts(tmp_path / "a", "a"), {"metrics": {"logloss": 0.160}})
    registry.promote_if_not_worse(v1, "logloss", higher_is_better=False)
    v2 = registry.register(artefacts(tmp_path / "b", "b"), {"metrics": {"logloss": 0.1605}})
    assert registry.promote_if_not_worse(v2, "logloss", False, tolerance=0.001, current_score=0.160).promoted
    v3 = registry.register(artefacts(tmp_path / "c", "c"), {"metrics": {"logloss": 0.1620}})
    refused = registry.promote_if_not_worse(v3, "logloss", False, tolerance=0.001, current_score=0.1605)
    assert not refused.promoted
    v4 = registry.register(artefacts(tmp_path / "d", "d"), {"metrics": {"auc": 0.695}})
    assert registry.promote_if_not_worse(v4, "auc", True, tolerance=0.01, current_score=0.70).promoted
    assert registry.promoted_version() == v4


def test_score_fn_scores_both_models_on_the_same_rows(registry, tmp_path):
    scores = {"a": 0.71, "b": 0.72}  # what each model scores on the candidate's test rows
    v1 = registry.register(artefacts(tmp_path / "a", "a"), {"metrics": {"auc": 0.80}})  # stored: other days
    registry.promote_if_not_worse(v1, "auc", True)
    v2 = registry.register(artefacts(tmp_path / "b", "b"), {"metrics": {"auc": 0.72}})
    called = []

    def score_fn(model):
        called.append(model.version)
        return scores[(model.path / "model.txt").read_text()]

    decision = registry.promote_if_not_worse(v2, "auc", True, score_fn=score_fn)
    assert decision.promoted and decision.current_score == pytest.approx(0.71)
    assert called == [v2, v1]


def test_comparing_without_the_current_models_score_on_the_same_days_is_refused(registry, tmp_path):
    v1 = registry.register(artefacts(tmp_path / "a", "a"), {"metrics": {"auc": 0.70}})
    registry.promote_if_not_worse(v1, "auc", True)
    v2 = registry.register(artefacts(tmp_path / "b", "b"), {"metrics": {"auc": 0.75}})
    with pytest.raises(ValueError, match="same test"):
        registry.promote_if_not_worse(v2, "auc", True)
    with pytest.raises(ValueError, match="metrics"):
        registry.promote_if_not_worse(v2, "logloss", False, current_score=0.1)


def test_rollback_returns_to_the_previously_promoted_version(registry, tmp_path):
    versions = [registry.register(artefacts(tmp_path / n, n), {"metrics": {"auc": 0.7}}) for n in "abc"]
    with pytest.raises(ValueError, match="nothing to roll back"):
        registry.rollback()
    registry.promote_if_not_worse(versions[0], "auc", True)
    registry.promote_if_not_worse(versions[1], "auc", True, current_score=0.7)
    registry.promote_if_not_worse(versions[2], "auc", True, current_score=0.7)
    assert registry.promoted_version() == versions[2]
    assert registry.rollback() == versions[1]
    assert registry.promoted_version() == versions[1]
    assert registry.rollback() == versions[0]
    with pytest.raises(ValueError, match="nothing to roll back"):
        registry.rollback()
    assert registry.promoted_version() == versions[0]
    actions = [(d["action"], d["version"]) for d in registry.decisions()]
    assert actions[-2:] == [("rollback", versions[1]), ("rollback", versions[0])]
    # a fresh registry object sees the same state: everything lives on disk
    assert ModelRegistry(registry.root, "ctr").promoted_version() == versions[0]


def test_registries_of_different_models_are_separate(tmp_path):
    ctr, text = ModelRegistry(tmp_path, "ctr"), ModelRegistry(tmp_path, "text_classifier")
    ctr.register(artefacts(tmp_path / "a", "a"), {})
    assert text.versions() == [] and ctr.versions() == ["v0001"]
    with pytest.raises(ValueError):
        ModelRegistry(tmp_path, "../escape")


def test_no_version_is_promoted_unless_it_beats_the_floor_first_one_included(registry, tmp_path):
    """A model no better than a constant global CTR has learnt nothing worth serving, even with nothing served."""
    v1 = registry.register(artefacts(tmp_path / "a", "constant"), {"metrics": {"logloss": 0.20}})
    refused = registry.promote_if_not_worse(v1, "logloss", higher_is_better=False, must_beat=0.20,
                                            must_beat_name="the global CTR")
    assert not refused.promoted and "no better than the global CTR" in refused.reason
    assert registry.promoted_version() is None
    v2 = registry.register(artefacts(tmp_path / "b", "learnt"), {"metrics": {"logloss": 0.18}})
    assert registry.promote_if_not_worse(v2, "logloss", higher_is_better=False, must_beat=0.20).promoted
    assert registry.promoted_version() == v2
    decisions = [json.loads(line) for line in (registry.folder / DECISIONS_FILE).read_text().splitlines()]
    assert [(d["version"], d["promoted"]) for d in decisions] == [(v1, False), (v2, True)]
