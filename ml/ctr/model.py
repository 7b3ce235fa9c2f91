"""The fitted CTR model: LightGBM booster + the feature spec and category maps it was trained with.

Everything needed to score lives in one folder, so a fresh process (a Dagster asset, a batch scoring job, the
registry) can load it and get the same predictions:

    model.txt            LightGBM model, trimmed to the best iteration
    feature_spec.json    column roles (FeatureSpec)
    category_maps.json   the value -> code maps fitted on the training days
    params.json          LightGBM parameters, best iteration, feature order, library versions
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from .features import CategoryMaps, FeatureEncoder, FeatureSpec

MODEL_FILE = "model.txt"
SPEC_FILE = "feature_spec.json"
CATEGORY_MAPS_FILE = "category_maps.json"
PARAMS_FILE = "params.json"
FORMAT_VERSION = 1


class CtrModel:
    """Predicts click probabilities for rows of a table that has the spec's feature columns."""

    def __init__(self, booster: lgb.Booster, encoder: FeatureEncoder, params: dict, best_iteration: int):
        self.booster = booster
        self.encoder = encoder
        self.params = params
        self.best_iteration = best_iteration

    @property
    def spec(self) -> FeatureSpec:
        return self.encoder.spec

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.feature_names

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """Click probabilities, one per row. Unseen categories score as the rare/unknown category; a missing
        feature column raises ValueError naming it."""
        missing = self.spec.missing_columns(df, for_training=False)
        if missing:
            raise ValueError(f"cannot score: missing feature columns {', '.join(missing)}")
        return self.predict_matrix(self.encoder.transform(df))

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Probabilities for an already encoded matrix (FeatureEncoder.transform)."""
        if len(matrix) == 0:
            return np.empty(0)
        return self.booster.predict(matrix, num_iteration=self.best_iteration)

    def feature_importance(self) -> list[dict]:
        """Total gain and split count per feature, highest gain first."""
        gain = self.booster.feature_importance("gain", iteration=self.best_iteration)
        splits = self.booster.feature_importance("split", iteration=self.best_iteration)
        rows = [{"feature": f, "gain": float(g), "splits": int(s)}
                for f, g, s in zip(self.feature_names, gain, splits)]
        return sorted(rows, key=lambda r: -r["gain"])

    def save(self, folder: Path | str) -> Path:
        """Write the model folder (each file atomically: temp file + rename). Returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(folder / MODEL_FILE, self.booster.model_to_string(num_iteration=self.best_iteration))
        _write_atomic(folder / SPEC_FILE, json.dumps(self.spec.to_dict(), indent=2))
        _write_atomic(folder / CATEGORY_MAPS_FILE, json.dumps(self.encoder.category_maps.to_dict()))
        _write_atomic(folder / PARAMS_FILE, json.dumps({
            "format_version": FORMAT_VERSION,
            "lightgbm_params": self.params,
            "best_iteration": self.best_iteration,
            "feature_names": self.feature_names,
            "lightgbm_version": lgb.__version__,
        }, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> "CtrModel":
        folder = Path(folder)
        missing = [f for f in (MODEL_FILE, SPEC_FILE, CATEGORY_MAPS_FILE, PARAMS_FILE) if not (folder / f).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a saved CTR model: {', '.join(missing)} missing")
        saved = json.loads((folder / PARAMS_FILE).read_text())
        if saved.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{folder}: model format {saved.get('format_version')}, this code reads {FORMAT_VERSION}")
        spec = FeatureSpec.from_dict(json.loads((folder / SPEC_FILE).read_text()))
        maps = CategoryMaps.from_dict(json.loads((folder / CATEGORY_MAPS_FILE).read_text()))
        booster = lgb.Booster(model_str=(folder / MODEL_FILE).read_text())
        # The saved booster holds exactly best_iteration trees, so "all of them" is the best iteration.
        model = cls(booster, FeatureEncoder(spec, maps), saved["lightgbm_params"], saved["best_iteration"])
        if model.feature_names != saved["feature_names"]:
            raise ValueError(f"{folder}: the feature spec and the saved feature order disagree")
        return model


def _write_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
