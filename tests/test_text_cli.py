"""python -m ml.text train / score on small files, in a subprocess (as a user would run them)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ml.text import TextClassifier, generated_comments
from ml.text.tiny import build_tiny_backbone

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ml.text", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    comments = generated_comments(work / "gen", start=dt.date(2026, 3, 1), days=3, events_per_day=20_000, seed=5)
    labelled = comments[comments["label"].notna()]
    labelled[["text", "label"]].to_csv(work / "train.csv", index=False)  # text,label only: a random split
    comments[["comment_id", "text"]].iloc[:150].to_csv(work / "score.tsv", sep="\t", index=False)
    backbone = build_tiny_backbone(work / "tiny", comments["text"].tolist())
    return work, backbone


def test_train_then_score(files):
    work, backbone = files
    trained = run("train", "--data", str(work / "train.csv"), "--backbone", str(backbone), "--epochs", "1",
                  "--max-length", "32", "--threads", "1", "--out", str(work / "model"))
    assert trained.returncode == 0, trained.stderr
    assert "tfidf_logreg" in trained.stdout and "test macro_f1" in trained.stdout
    assert "split: random" in trained.stdout
    report = json.loads((work / "model" / "report.json").read_text())
    assert report["labels"] == ["negative", "neutral", "positive"] and report["split"]["mode"] == "random"
    assert "samples/s" in trained.stderr  # progress goes to the log

    scored = run("score", "--model", str(work / "model"), "--data", str(work / "score.tsv"),
                 "--out", str(work / "scores.csv"), "--chunk-size", "40", "--quiet")
    assert scored.returncode == 0, scored.stderr
    out = pd.read_csv(work / "scores.csv")
    source = pd.read_csv(work / "score.tsv", sep="\t")
    assert out["comment_id"].tolist() == source["comment_id"].tolist()
    assert list(out.columns) == ["comment_id", "p_negative", "p_neutral", "p_positive", "predicted_label"]
    model = TextClassifier.load(work / "model")
    expected = model.predict_proba(source["text"].tolist())
    assert abs(out[["p_negative", "p_neutral", "p_positive"]].to_numpy() - expected).max() < 1e-5

    parquet = run("score", "--model", str(work / "model"), "--data", str(work / "score.tsv"),
                  "--out", str(work / "scores.parquet"), "--quiet")
    assert parquet.returncode == 0, parquet.stderr
    assert len(pd.read_parquet(work / "scores.parquet")) == 150


def test_bad_input_exits_with_a_message(files, tmp_path):
    work, backbone = files
    pd.DataFrame({"text": ["a", "b", "c", "d"], "label": ["x"] * 4}).to_csv(tmp_path / "one.csv", index=False)
    single = run("train", "--data", str(tmp_path / "one.csv"), "--backbone", str(backbone), "--quiet")
    assert single.returncode == 2 and "single class" in single.stderr
    missing = run("train", "--data", str(tmp_path / "absent.csv"), "--quiet")
    assert missing.returncode == 2 and "no such file" in missing.stderr
