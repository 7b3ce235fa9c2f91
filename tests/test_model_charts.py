"""Model charts: real PNG files of the intended size whose pixels follow the data, embeddable in Markdown."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from matplotlib import image

from ml.metrics import reliability_table
from orchestration.lib import model_charts as charts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LABELS = ["negative", "neutral", "positive"]


def png_size(path) -> tuple[int, int]:
    """(width, height) in pixels, as decoded by matplotlib."""
    pixels = image.imread(path)
    return pixels.shape[1], pixels.shape[0]


def scores(seed: int, signal: float, n: int = 3000):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    return labels, np.clip(signal * labels + rng.random(n) * (1 - signal), 0, 1)


def draw_all(folder, signal: float, importance_scale: float, confusion, f1):
    labels, predicted = scores(1, signal)
    return {
        "roc": charts.roc_chart(labels, {"model": predicted, "global_ctr": np.full(len(labels), 0.5)},
                                folder / "roc.png"),
        "reliability": charts.reliability_chart(reliability_table(labels, predicted), folder / "reliability.png"),
        "importance": charts.importance_chart(
            [{"feature": f"feature_{i}", "gain": importance_scale * (i + 1) ** 2} for i in range(20)],
            folder / "importance.png"),
        "confusion": charts.confusion_chart(confusion, LABELS, folder / "confusion.png"),
        "f1": charts.per_class_f1_chart({"model": dict(zip(LABELS, f1)), "tfidf_logreg": dict(zip(LABELS, f1[::-1]))},
                                        LABELS, folder / "f1.png"),
    }


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    a = draw_all(tmp_path_factory.mktemp("a"), 0.2, 1.0, [[50, 3, 2], [5, 40, 8], [1, 4, 60]], [0.8, 0.6, 0.9])
    b = draw_all(tmp_path_factory.mktemp("b"), 0.6, 3.0, [[10, 30, 15], [20, 5, 28], [30, 30, 5]],
                 [0.2, 0.4, 0.3])
    return a, b


def test_every_chart_is_a_png_about_five_inches_wide_at_80_dpi(two_sets):
    for path in two_sets[0].values():
        data = path.read_bytes()
        assert data[:8] == PNG_MAGIC, path
        width, height = png_size(path)
        assert width == int(charts.WIDTH_IN * charts.DPI) and 150 < height < 600, (path.name, width, height)
        assert len(data) < 80_000  # small enough to embed in the event log


def test_chart_pixels_follow_the_input(two_sets):
    a, b = two_sets
    for name in a:
        assert a[name].read_bytes() != b[name].read_bytes(), name
    # Redrawing the same data gives the same picture (no randomness, no timestamps in the pixels).
    redrawn = charts.confusion_chart([[50, 3, 2], [5, 40, 8], [1, 4, 60]], LABELS,
                                     a["confusion"].with_name("again.png"))
    assert np.array_equal(image.imread(redrawn), image.imread(a["confusion"]))


def test_markdown_embeds_each_png_inline(two_sets):
    paths = two_sets[0]
    markdown = charts.markdown_images({"roc": paths["roc"], "f1": paths["f1"]})
    embedded = re.findall(r"!\[(\w+)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert [name for name, _ in embedded] == ["roc", "f1"]
    assert [base64.b64decode(data) for _, data in embedded] == [paths["roc"].read_bytes(), paths["f1"].read_bytes()]
