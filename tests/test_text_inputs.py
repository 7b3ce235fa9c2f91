"""Bad input to the text classifier: clear errors, or the documented handling (ml/text/data.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.text import LabelSet, TextTrainingConfig, train_text_classifier
from ml.text.data import labelled_rows
from ml.text.tiny import build_tiny_backbone

TEXTS = ["love this so much", "awful video", "where is this?", "great stuff", "terrible take", "ok I guess"]


def frame(n_days: int = 4, per_day: int = 12) -> pd.DataFrame:
    rows = []
    for day in range(n_days):
        for i in range(per_day):
            text = TEXTS[i % len(TEXTS)]
            label = {0: "positive", 1: "negative", 2: "neutral"}[i % 3]
            rows.append({"comment_id": f"c{day}-{i}", "event_date": f"2026-03-0{day + 1}", "user_key": f"u{i}",
                         "comment_text": text, "label": label})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tiny_backbone(tmp_path_factory):
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny"), TEXTS * 5, vocab_size=120)


def config(backbone, **overrides) -> TextTrainingConfig:
    return TextTrainingConfig(**{"backbone": str(backbone), "epochs": 1, "device": "cpu", "num_threads": 1,
                                 "baseline": False, **overrides})


def test_unannotated_and_empty_text_rows_are_left_out_and_counted():
    data = frame()
    data.loc[0, "label"] = None
    data.loc[1, "comment_text"] = "   "
    data.loc[2, "comment_text"] = None
    data.loc[3, "comment_text"] = float("nan")
    rows = labelled_rows(data)
    assert rows.counts == {"input_rows": 48, "unannotated": 1, "dropped_empty_text": 3, "labelled_rows": 44}
    assert rows.columns["text"] == "comment_text" and rows.columns["user"] == "user_key"


def test_non_string_text_is_an_error_naming_the_column():
    data = frame()
    data.loc[5, "comment_text"] = 12345
    with pytest.raises(ValueError, match="non-string value.*12345"):
        labelled_rows(data)


def test_no_annotations_is_an_error():
    data = frame().assign(label=None)
    with pytest.raises(ValueError, match="no annotated rows"):
        labelled_rows(data)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="no text column"):
        labelled_rows(pd.DataFrame({"label": ["a"], "words": ["x"]}))
    with pytest.raises(ValueError, match="label column 'sentiment' not in the data"):
        labelled_rows(frame(), label_column="sentiment")


def test_label_set_rules():
    assert LabelSet.from_data(["b", "a", "b"]).labels == ["a", "b"]
    assert LabelSet.from_data([0, 1, 2]).labels == ["0", "1", "2"]
    fixed = LabelSet.from_data(["safe", "safe", "unsafe"], fixed=["unsafe", "safe", "review"])
    assert fixed.labels == ["unsafe", "safe", "review"]  # a fixed set keeps its order
    with pytest.raises(ValueError, match="not in the fixed label set.*'spam'"):
        LabelSet.from_data(["safe", "spam"], fixed=["safe", "unsafe"])
    with pytest.raises(ValueError, match="single class"):
        LabelSet.from_data(["positive"] * 10)
    with pytest.raises(ValueError, match="unknown label"):
        LabelSet(["a", "b"]).encode(["c"])
    assert np.array_equal(LabelSet(["a", "b"]).encode(["b", "a"]), [1, 0])


def test_training_rejects_bad_data_before_loading_any_model(tmp_path):
    missing_backbone = tmp_path / "nothing-here"  # never reached: the data is checked first
    with pytest.raises(ValueError, match="single class"):
        train_text_classifier(frame().assign(label="positive"), config(missing_backbone))
    with pytest.raises(ValueError, match="fixed label set"):
        train_text_classifier(frame(), config(missing_backbone, labels=("positive", "negative")))
    with pytest.raises(ValueError, match="too few days"):
        train_text_classifier(frame(n_days=2), config(missing_backbone))
    with pytest.raises(TypeError, match="DataFrame"):
        train_text_classifier([("text", "label")], config(missing_backbone))


def test_training_part_with_a_single_class_is_an_error(tiny_backbone):
    data = frame()
    early = data["event_date"] < "2026-03-03"
    data.loc[early, "label"] = "positive"
    with pytest.raises(ValueError, match="training part holds a single class"):
        train_text_classifier(data, config(tiny_backbone))


def test_fixed_label_set_with_an_unseen_label_still_trains(tiny_backbone):
    model, report = train_text_classifier(frame(), config(tiny_backbone, labels=("negative", "neutral",
                                                                                 "positive", "spam")))
    assert model.labels == ["negative", "neutral", "positive", "spam"]
    assert report.model["per_class"]["spam"]["support"] == 0
    assert model.predict_proba(["love it"]).shape == (1, 4)


def test_bad_config_values_are_rejected():
    with pytest.raises(ValueError, match="pooling"):
        TextTrainingConfig(pooling="max")
    with pytest.raises(ValueError, match="batch_size"):
        TextTrainingConfig(batch_size=0)
    with pytest.raises(ValueError, match="split mode"):
        TextTrainingConfig(split={"mode": "shuffle"})
    assert TextTrainingConfig.from_dict(TextTrainingConfig(labels=("a", "b")).to_dict()).labels == ("a", "b")


def test_missing_backbone_folder_is_a_clear_error(tmp_path):
    from ml.text.backbone import resolve_backbone

    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        resolve_backbone(tmp_path / "empty")
