"""The majority-class floor a comment classifier must beat before it may be promoted."""

import pytest

from ml.text.evaluate import majority_class_metrics


def test_majority_class_metrics_are_those_of_always_predicting_the_most_common_label():
    truth = ["negative"] * 6 + ["neutral"] * 1 + ["positive"] * 3
    metrics = majority_class_metrics(truth, ["negative", "neutral", "positive"])
    assert metrics["accuracy"] == pytest.approx(0.6)
    # F1 of "negative": precision 0.6, recall 1 -> 0.75; the other two classes score 0
    assert metrics["macro_f1"] == pytest.approx(0.75 / 3)
    with pytest.raises(ValueError, match="no rows"):
        majority_class_metrics([], ["negative"])
