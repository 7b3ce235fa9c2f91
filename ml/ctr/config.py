"""Training settings for the CTR model, in one serialisable place (they go into the report and the registry)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .split import SplitConfig

# Chosen on generated attnflow data (6-21 days, 25k-1M rows): the true click model is close to additive in
# its inputs, and clicks are rare (a leaf of 100 rows holds ~4 clicks at a 4% CTR), so shallow trees with large
# leaves and a slow learning rate generalise best. Categoricals with up to 64 values are split one-vs-rest
# (max_cat_to_onehot): LightGBM's default many-vs-many split sorts categories by their gradient statistics,
# which on rare clicks fits noise (on 8 days x 60k events: test AUC 0.695 -> 0.710). Larger categoricals
# (Criteo-like hashes) keep many-vs-many splits, regularised by cat_smooth, cat_l2 and min_data_per_group.
DEFAULT_LIGHTGBM_PARAMS = {
    "objective": "binary",
    "metric": "binary_logloss",
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_cat_to_onehot": 64,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "min_data_per_group": 50,
    "max_cat_threshold": 64,
    # Same table + same parameters = same model (row-wise histograms fix the summation order; LightGBM would
    # otherwise pick row- or column-wise by timing both, run by run).
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}


@dataclass
class CtrTrainingConfig:
    """lightgbm_params are merged over DEFAULT_LIGHTGBM_PARAMS (so {"num_leaves": 31} changes only that).
    Training stops when validation logloss has not improved for early_stopping_rounds rounds."""

    lightgbm_params: dict = field(default_factory=dict)
    num_boost_round: int = 2000
    early_stopping_rounds: int = 50
    min_category_count: int = 20  # a categorical value seen fewer times in training joins the rare bucket
    split: SplitConfig = field(default_factory=SplitConfig)
    baselines: bool = True
    entity_prior_strength: float = 30.0  # pseudo-impressions at the global CTR for the per-ad baseline
    logistic_max_rows: int = 300_000
    calibration_bins: int = 10
    seed: int = 7
    num_threads: int = 0  # 0: LightGBM's default (all cores)

    def resolved_lightgbm_params(self) -> dict:
        return {**DEFAULT_LIGHTGBM_PARAMS, "seed": self.seed, "num_threads": self.num_threads,
                **self.lightgbm_params}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CtrTrainingConfig":
        data = dict(data)
        if isinstance(data.get("split"), dict):
            data["split"] = SplitConfig(**data["split"])
        return cls(**data)
