"""Text classifier with a tiny randomly initialised BERT: training, report, save/load, chunked scoring,
registry. Fast (seconds): the real backbone is exercised in test_text_backbone.py."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from ml.registry import ModelRegistry
from ml.text import (
    TextClassifier, TextSplitConfig, TextTrainingConfig, generated_comments, model_scorer, score_in_chunks,
    train_text_classifier,
)
from ml.text.device import resolve_device, torch_threads
from ml.text.tiny import build_tiny_backbone


@pytest.fixture(scope="module")
def comments(tmp_path_factory) -> pd.DataFrame:
    return generated_comments(tmp_path_factory.mktemp("comments"), start=dt.date(2026, 3, 1), days=4,
                              events_per_day=20_000, seed=11)


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory, comments):
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny"), comments["text"].tolist())


def tiny_config(backbone, **overrides) -> TextTrainingConfig:
    settings = dict(backbone=str(backbone), epochs=2, batch_size=16, max_length=48, device="cpu", num_threads=1, seed=3,
                    log_every_steps=5)
    return TextTrainingConfig(**{**settings, **overrides})


@pytest.fixture(scope="module")
def trained(comments, tiny_backbone):
    return train_text_classifier(comments, tiny_config(tiny_backbone))


def test_training_reports_model_and_baseline_on_the_same_test_rows(trained, comments):
    model, report = trained
    assert report.labels == ["negative", "neutral", "positive"] == model.labels
    assert report.split["mode"] == "time" and report.columns["text"] == "text"
    test_day = report.split["test_days"][0]
    labelled = comments[comments["label"].notna()]
    assert report.split["rows"]["test"] == int((labelled["event_date"].astype(str) == test_day).sum())
    assert report.rows["unannotated"] == int(comments["label"].isna().sum())
    for part in (report.validation, report.test):
        for name in ("model", "tfidf_logreg"):
            metrics = part[name]
            assert 0 <= metrics["macro_f1"] <= 1 and 0 <= metrics["accuracy"] <= 1
            assert np.sum(metrics["confusion_matrix"]["counts"]) == metrics["rows"]
            assert set(metrics["per_class"]) == set(model.labels)
    assert report.test["model"]["rows"] == report.test["tfidf_logreg"]["rows"] == report.split["rows"]["test"]
    # the generated truth is carried through: agreement of model, baseline and the annotations themselves
    agreement = report.truth_agreement
    assert agreement["annotations"]["accuracy"] > 0.8  # ~6-10% of generated annotations are wrong
    assert set(agreement) == {"annotations", "model", "tfidf_logreg"}
    training = report.training
    assert 1 <= training["epochs_run"] <= 2 and training["train_samples_per_s"] > 0
    assert training["device"] == "cpu" and training["num_threads"] == 1
    assert len(training["history"]) == training["epochs_run"]
    table = report.metrics_table()
    assert "tfidf_logreg" in table and "test macro_f1" in table and "confusion matrix" in table
    assert report.test_predictions["id"].str.startswith("e").all()


def test_report_serialises_and_finds_its_test_rows_again(trained, comments, tmp_path):
    _, report = trained
    path = report.write(tmp_path / "report.json")
    assert '"macro_f1"' in path.read_text()
    rows = report.test_rows(comments)
    assert set(rows["event_date"].astype(str)) == set(report.split["test_days"])
    metadata = report.registry_metadata(data_version="test")
    assert metadata["metrics"]["macro_f1"] == report.model["macro_f1"]
    assert metadata["training_window"]["test"] == report.split["test_days"]


def test_save_load_round_trip_gives_identical_probabilities(trained, comments, tmp_path):
    model, _ = trained
    texts = comments["text"].tolist()[:300]
    before = model.predict_proba(texts)
    model.save(tmp_path / "model")
    loaded = TextClassifier.load(tmp_path / "model")
    after = loaded.predict_proba(texts)
    assert np.array_equal(before, after)
    assert loaded.labels == model.labels and loaded.pooling == "mean" and loaded.max_length == 48
    assert np.allclose(after.sum(axis=1), 1.0, atol=1e-5)
    assert loaded.predict(texts[:3]) == [model.labels[i] for i in after[:3].argmax(axis=1)]


def test_chunked_scoring_equals_one_shot_scoring(trained, comments):
    model, _ = trained
    texts = comments["text"].tolist()[:257]
    expected = model.predict_proba(texts, batch_size=32)

    from_texts = list(score_in_chunks(model, iter(texts), chunk_size=50, batch_size=8))
    assert [len(c) for c in from_texts] == [50] * 5 + [7]
    joined = pd.concat(from_texts, ignore_index=True)
    assert joined["row"].tolist() == list(range(257))
    assert np.allclose(joined[model.probability_columns].to_numpy(), expected, atol=1e-5)

    frames = [comments.iloc[:100], comments.iloc[100:257]]
    from_frames = pd.concat(model.score_in_chunks(frames, chunk_size=64), ignore_index=True)
    assert from_frames["comment_id"].tolist() == comments["comment_id"].tolist()[:257]
    assert np.allclose(from_frames[model.probability_columns].to_numpy(), expected, atol=1e-5)
    assert (from_frames["predicted_label"] == [model.labels[i] for i in expected.argmax(axis=1)]).all()


def test_chunked_scoring_gives_nan_for_rows_without_text(trained):
    model, _ = trained
    frame = pd.DataFrame({"comment_id": ["a", "b", "c", "d"], "comment_text": ["great video", None, "  ", "ok"]})
    scored = next(model.score_in_chunks(frame))
    probabilities = scored[model.probability_columns].to_numpy()
    assert np.isnan(probabilities[[1, 2]]).all() and not np.isnan(probabilities[[0, 3]]).any()
    assert scored["predicted_label"].isna().tolist() == [False, True, True, False]
    with pytest.raises(TypeError, match="single string"):
        next(model.score_in_chunks("great video"))


def test_extremely_long_text_is_truncated_not_rejected(trained):
    model, _ = trained
    long_text = "this is amazing " * 50_000  # 800k characters
    probabilities = model.predict_proba([long_text, "this is amazing " * 20])
    assert probabilities.shape == (2, 3) and np.isfinite(probabilities).all()
    # both are cut to the same first max_length tokens
    assert np.allclose(probabilities[0], probabilities[1], atol=1e-6)


def test_predict_proba_rejects_non_strings_and_accepts_empty(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="not strings"):
        model.predict_proba(["fine", None])
    with pytest.raises(ValueError, match="not strings"):
        model.predict_proba(["fine", 3])
    with pytest.raises(TypeError, match="list of texts"):
        model.predict_proba("fine")
    assert model.predict_proba([]).shape == (0, 3)
    assert model.predict_proba([""]).shape == (1, 3)


def test_training_is_repeatable_with_a_fixed_seed(comments, tiny_backbone, trained):
    _, report = trained
    _, again = train_text_classifier(comments, tiny_config(tiny_backbone))
    assert again.test["model"] == report.test["model"]
    assert [h["train_loss"] for h in again.training["history"]] == \
        [h["train_loss"] for h in report.training["history"]]


def test_other_label_sets_cls_pooling_user_split_and_accumulation(comments, tiny_backbone, caplog):
    topics = comments.assign(label=comments["item_topic"])
    config = tiny_config(tiny_backbone, pooling="cls", epochs=1, gradient_accumulation_steps=2, baseline=False,
                         split=TextSplitConfig(mode="user"), truth_column=None)
    with caplog.at_level(logging.INFO, logger="ml.text"):
        model, report = train_text_classifier(topics, config)
    assert model.labels == sorted(topics["item_topic"].unique()) and model.pooling == "cls"
    assert report.split["mode"] == "user" and "tfidf_logreg" not in report.test
    assert report.truth_agreement is None
    assert report.rows["unannotated"] == 0  # every comment has a topic
    assert any("samples/s" in r.getMessage() for r in caplog.records)
    steps_per_epoch = -(-report.split["rows"]["train"] // 16)  # ceil: batches of 16
    assert report.training["optimizer_steps"] == -(-steps_per_epoch // 2)


def test_registry_round_trip_and_promotion_scorer(trained, comments, tmp_path):
    model, report = trained
    registry = ModelRegistry(tmp_path / "registry", "comment_sentiment")
    version = registry.register(model.save, report.registry_metadata())
    decision = registry.promote_if_not_worse(version, "macro_f1", higher_is_better=True)
    assert decision.promoted
    score = model_scorer(report.test_rows(comments))
    assert score(registry.get(version)) == pytest.approx(report.model["macro_f1"])
    served = TextClassifier.load(registry.promoted().path)
    assert np.array_equal(served.predict_proba(["love it"]), model.predict_proba(["love it"]))


def test_device_resolution_and_thread_restore():
    settings = resolve_device("cpu", "auto", num_threads=1)
    assert settings.device.type == "cpu" and settings.precision == "fp32" and settings.autocast_dtype is None
    before = torch.get_num_threads()
    with torch_threads(settings):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="fp16"):
        resolve_device("cpu", "fp16")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")
        assert resolve_device("auto").device.type == "cpu"


def test_truth_can_be_attached_after_training(trained, comments):
    _, report = trained
    carried = report.truth_agreement
    truth = comments.rename(columns={"comment_id": "event_id"})[["event_id", "true_sentiment"]]
    assert report.attach_truth(truth) == carried
