"""Click-through-rate model: LightGBM on attnflow's marts.fct_ctr_training (or any Criteo-like table).

    from ml.ctr import train_ctr_model, CtrModel
    model, report = train_ctr_model(df)          # time split, early stopping, baselines, test-day metrics
    report.attach_oracle(truth)                  # synthetic data: compare with the true click probabilities
    model.save(folder); CtrModel.load(folder).predict(new_rows)

Command line: python -m ml.ctr train --data FILE ... / python -m ml.ctr score --model DIR --data FILE --out FILE
"""

import os

# LightGBM's OpenMP threads spin while waiting for work by default. On a machine whose cores are busy with other
# processes that spinning makes training 5-10x slower (measured: 10 s instead of 1 s for 70k rows on 2 shared
# cores); passive waiting costs nothing measurable when the cores are free. Read once, when OpenMP starts, so it
# is set before lightgbm is first imported; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .config import DEFAULT_LIGHTGBM_PARAMS, CtrTrainingConfig
from .evaluate import EvaluationReport, oracle_comparison
from .features import RARE_CODE, CategoryMaps, FeatureEncoder, FeatureSpec
from .model import CtrModel
from .split import DataSplit, SplitConfig, split_by_row_order, split_by_time, split_table
from .train import PreparedData, prepare_training_data, train_ctr_model

__all__ = [
    "CategoryMaps", "CtrModel", "CtrTrainingConfig", "DEFAULT_LIGHTGBM_PARAMS", "DataSplit", "EvaluationReport",
    "FeatureEncoder", "FeatureSpec", "PreparedData", "RARE_CODE", "SplitConfig", "oracle_comparison",
    "prepare_training_data", "split_by_row_order", "split_by_time", "split_table", "train_ctr_model",
]
