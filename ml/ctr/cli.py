"""Command line for the CTR model.

    python -m ml.ctr train --data FILE [--label is_clicked] [--time-column event_date | --no-time-column]
                           [--categorical C1,C2 ...] [--numeric I1,I2 ...] [--exclude COLS] [--truth PATH]
                           [--out DIR]
    python -m ml.ctr score --model DIR --data FILE --out FILE

FILE is .csv, .tsv (.txt: tab-separated), .parquet (optionally .gz for the text formats), or an attnflow
.duckdb file (--table, default marts.fct_ctr_training). A headerless Criteo file (label, I1..I13, C1..C26) is
read with --no-header. Without a time column the rows are split by their order in the file (see split.py).

train writes DIR/ with the model files (model.py) and DIR/report.json, and prints the test metrics. With
--truth (a Parquet/CSV file, or a folder of the generator's dt=*/impressions.parquet) the report also compares
the model with the true click probabilities. score writes one row per input row: the id column when the table
has one (else `row`, the input position) and `predicted_ctr`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from .config import CtrTrainingConfig
from .features import CRITEO_COLUMNS, FeatureSpec, parse_column_list
from .model import CtrModel
from .split import SplitConfig
from .train import train_ctr_model

DEFAULT_DUCKDB_TABLE = "marts.fct_ctr_training"
PREDICTION_COLUMN = "predicted_ctr"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.ctr", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train, evaluate on the latest days, write model + report")
    _add_data_arguments(train)
    train.add_argument("--label", help="label column (default: is_clicked, label, clicked, ... whichever exists)")
    train.add_argument("--time-column", default="auto",
                       help="column whose days drive the split (default: event_date / date / ... if present)")
    train.add_argument("--no-time-column", action="store_true", help="split by row order even if a date exists")
    train.add_argument("--categorical", help="comma-separated categorical columns (others: typed by dtype)")
    train.add_argument("--numeric", help="comma-separated numeric columns (others: typed by dtype)")
    train.add_argument("--exclude", help="comma-separated columns that are not features")
    train.add_argument("--id-column", default="auto", help="column carried into predictions (default: auto)")
    train.add_argument("--entity-column", default="auto", help="column of the per-entity CTR baseline (ad_id)")
    train.add_argument("--validation", type=_count_or_fraction, help="validation days (int) or fraction (float)")
    train.add_argument("--test", type=_count_or_fraction, help="test days (int) or fraction (float)")
    train.add_argument("--min-category-count", type=int, default=CtrTrainingConfig.min_category_count)
    train.add_argument("--params", type=json.loads, default={},
                       help='LightGBM parameters over the defaults, as JSON, e.g. \'{"num_leaves": 31}\'')
    train.add_argument("--no-baselines", action="store_true", help="skip the baseline models")
    train.add_argument("--truth", type=Path, help="ground truth (event_id, true_click_prob) for the oracle rows")
    train.add_argument("--out", type=Path, default=Path("ctr-model"), help="output folder (default: ./ctr-model)")
    train.set_defaults(run=run_train)

    score = commands.add_parser("score", help="predict click probabilities with a saved model")
    score.add_argument("--model", type=Path, required=True, help="folder written by train")
    _add_data_arguments(score)
    score.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .tsv or .parquet)")
    score.set_defaults(run=run_score)
    return parser.parse_args(argv)


def run_train(args: argparse.Namespace) -> int:
    df = read_table(args.data, args.no_header, args.columns, args.table)
    spec = FeatureSpec.infer(
        df, label=args.label, time_column=None if args.no_time_column else args.time_column,
        categorical=parse_column_list(args.categorical), numeric=parse_column_list(args.numeric),
        id_column=args.id_column, entity_column=args.entity_column, exclude=parse_column_list(args.exclude))
    config = CtrTrainingConfig(lightgbm_params=args.params, min_category_count=args.min_category_count,
                               split=SplitConfig(validation=args.validation, test=args.test),
                               baselines=not args.no_baselines)
    model, report = train_ctr_model(df, spec, config)
    if args.truth:
        report.attach_oracle(read_truth(args.truth))
    model.save(args.out)
    report.write(args.out / "report.json")
    print(f"{len(df)} rows; {len(spec.categorical)} categorical and {len(spec.numeric)} numeric features; "
          f"split by {report.split['mode'].replace('_', ' ')}")
    print(report.metrics_table())
    print(f"model and report written to {args.out}")
    return 0


def run_score(args: argparse.Namespace) -> int:
    model = CtrModel.load(args.model)
    df = read_table(args.data, args.no_header, args.columns, args.table)
    predictions = model.predict(df)
    id_column = model.spec.id_column
    if id_column and id_column in df.columns:
        out = pd.DataFrame({id_column: df[id_column].to_numpy(), PREDICTION_COLUMN: predictions})
    else:
        out = pd.DataFrame({"row": range(len(df)), PREDICTION_COLUMN: predictions})
    write_table(out, args.out)
    print(f"{len(out)} predictions (mean {predictions.mean():.4f}) written to {args.out}")
    return 0


def read_table(path: Path, no_header: bool = False, columns: str | None = None,
               table: str = DEFAULT_DUCKDB_TABLE) -> pd.DataFrame:
    """A CSV / TSV / Parquet / DuckDB table as a DataFrame (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    kind = suffixes[-1] if suffixes else ""
    if kind == ".parquet":
        return pd.read_parquet(path)
    if kind == ".duckdb":
        import duckdb
        with duckdb.connect(str(path), read_only=True) as conn:
            return conn.execute(f"SELECT * FROM {table}").df()
    if kind not in (".csv", ".tsv", ".txt"):
        raise ValueError(f"unsupported file type {path.name!r}: use .csv, .tsv, .txt, .parquet or .duckdb")
    df = pd.read_csv(path, sep="," if kind == ".csv" else "\t", header=None if no_header else "infer",
                     low_memory=False)
    if no_header:
        names = parse_column_list(columns) or list(CRITEO_COLUMNS)
        if len(names) != len(df.columns):
            raise ValueError(f"{path.name} has {len(df.columns)} columns but {len(names)} names were given "
                             "(without --columns a headerless file must have the 40 Criteo columns)")
        df.columns = names
    return df


def read_truth(path: Path) -> pd.DataFrame:
    """Ground truth: one file, or a generator truth folder (every dt=*/impressions.parquet under it)."""
    if path.is_dir():
        files = sorted(path.glob("**/impressions.parquet"))
        if not files:
            raise FileNotFoundError(f"no impressions.parquet under {path}")
        return pd.concat((pd.read_parquet(f, columns=["event_id", "true_click_prob"]) for f in files),
                         ignore_index=True)
    return read_table(path)


def write_table(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix.lower()
    if kind == ".parquet":
        df.to_parquet(path, index=False)
    elif kind in (".csv", ".tsv"):
        df.to_csv(path, sep="," if kind == ".csv" else "\t", index=False)
    else:
        raise ValueError(f"unsupported output type {path.name!r}: use .csv, .tsv or .parquet")


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="table file (.csv/.tsv/.parquet/.duckdb)")
    parser.add_argument("--no-header", action="store_true",
                        help="text file without a header line: Criteo column names unless --columns is given")
    parser.add_argument("--columns", help="comma-separated names for a headerless file")
    parser.add_argument("--table", default=DEFAULT_DUCKDB_TABLE, help="table to read from a .duckdb file")


def _count_or_fraction(text: str) -> int | float:
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() else value
