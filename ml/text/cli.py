"""Command line for the text classifier.

    python -m ml.text train --data FILE [--backbone PATH_OR_ID] [--pooling mean|cls] [--epochs N] [--out DIR]
                            [--text-column C] [--label-column C] [--labels a,b,c] [--split auto|time|user|random]
                            [--max-length N] [--batch-size N] [--learning-rate LR] [--device auto|cpu|cuda]
                            [--threads N] [--no-baseline] [--seed N]
    python -m ml.text score --model DIR --data FILE --out FILE [--text-column C] [--chunk-size N]

FILE is .csv, .tsv (.txt: tab-separated), .parquet or an attnflow .duckdb file (--table, default
marts.fct_comments). It needs a text column (text or comment_text) and, for train, a label column (label); rows
with an empty label are unannotated and left out. An event_date / event_ts column makes the split by day, a
user_key / user_id column by user; with neither the split is random (stratified, seeded).

train writes DIR/ (the model: see classifier.py) and DIR/report.json, and prints the metrics of the model and
the TF-IDF + logistic regression baseline side by side. score streams FILE in chunks and writes one row per
input row: the id column when there is one (else `row`), p_<label> per label and predicted_label.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .config import POOLINGS, SPLIT_MODES, TextSplitConfig, TextTrainingConfig

DEFAULT_DUCKDB_TABLE = "marts.fct_comments"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s %(message)s")
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ml.text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = TextTrainingConfig()

    train = commands.add_parser("train", help="fine-tune, evaluate next to the TF-IDF baseline, write model")
    _add_data_arguments(train)
    train.add_argument("--backbone", help="local model folder or hub id (default: bundled all-MiniLM-L6-v2)")
    train.add_argument("--pooling", choices=POOLINGS, default=defaults.pooling)
    train.add_argument("--epochs", type=int, default=defaults.epochs)
    train.add_argument("--label-column", default="auto")
    train.add_argument("--labels", help="comma-separated fixed label set (other labels are an error)")
    train.add_argument("--split", choices=SPLIT_MODES, default="auto")
    train.add_argument("--max-length", type=int, default=defaults.max_length)
    train.add_argument("--batch-size", type=int, default=defaults.batch_size)
    train.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    train.add_argument("--max-train-rows", type=int)
    train.add_argument("--device", default="auto")
    train.add_argument("--threads", type=int, default=0, help="CPU threads (default: the available cores)")
    train.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF baseline")
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument("--out", type=Path, default=Path("text-model"), help="output folder (default: ./text-model)")
    train.set_defaults(run=run_train)

    score = commands.add_parser("score", help="class probabilities for every row, with a saved model")
    score.add_argument("--model", type=Path, required=True, help="folder written by train")
    _add_data_arguments(score)
    score.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .tsv or .parquet)")
    score.add_argument("--chunk-size", type=int, default=4096)
    score.add_argument("--batch-size", type=int, default=64)
    score.add_argument("--device", default="cpu")
    score.add_argument("--threads", type=int, default=0)
    score.set_defaults(run=run_score)
    return parser.parse_args(argv)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help=".csv, .tsv, .parquet or .duckdb")
    parser.add_argument("--table", default=DEFAULT_DUCKDB_TABLE, help="table to read from a .duckdb file")
    parser.add_argument("--text-column", default="auto")
    parser.add_argument("--quiet", action="store_true", help="no progress logging")


def run_train(args: argparse.Namespace) -> int:
    from .train import train_text_classifier

    config = TextTrainingConfig(
        backbone=args.backbone, pooling=args.pooling, epochs=args.epochs, max_length=args.max_length,
        batch_size=args.batch_size, learning_rate=args.learning_rate, max_train_rows=args.max_train_rows,
        labels=tuple(x.strip() for x in args.labels.split(",") if x.strip()) if args.labels else None,
        device=args.device, num_threads=args.threads, baseline=not args.no_baseline, seed=args.seed,
        split=TextSplitConfig(mode=args.split), text_column=args.text_column, label_column=args.label_column,
    )
    frame = pd.concat(list(read_chunks(args.data, args.table)), ignore_index=True)
    model, report = train_text_classifier(frame, config)
    model.save(args.out)
    report.write(args.out / "report.json")
    print(report.metrics_table())
    print(f"\nmodel written to {args.out}/ (report: {args.out / 'report.json'})")
    return 0


def run_score(args: argparse.Namespace) -> int:
    from .classifier import TextClassifier

    model = TextClassifier.load(args.model, device=args.device, num_threads=args.threads)
    rows = 0
    with _Writer(args.out) as writer:
        for scored in model.score_in_chunks(read_chunks(args.data, args.table, args.chunk_size),
                                            chunk_size=args.chunk_size, batch_size=args.batch_size,
                                            text_column=args.text_column):
            writer.write(scored)
            rows += len(scored)
    print(f"{rows} rows scored -> {args.out}")
    return 0


def read_chunks(path: Path, table: str = DEFAULT_DUCKDB_TABLE, chunk_size: int = 100_000
                ) -> Iterator[pd.DataFrame]:
    """The file as DataFrames of at most chunk_size rows. Text columns are read as strings (a comment "42"
    stays a string; empty cells are missing)."""
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size):
            yield batch.to_pandas()
    elif name.endswith(".duckdb"):
        import duckdb

        with duckdb.connect(str(path), read_only=True) as conn:
            cursor = conn.execute(f"SELECT * FROM {table}")
            while True:
                chunk = cursor.fetch_df_chunk(max(1, chunk_size // 2048))
                if chunk.empty:
                    break
                yield chunk
    elif name.endswith((".csv", ".tsv", ".txt")):
        sep = "," if name.endswith(".csv") else "\t"
        yield from pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                               chunksize=chunk_size)
    else:
        raise ValueError(f"unsupported data file {path}: use .csv, .tsv, .parquet or .duckdb")


class _Writer:
    """Appends scored chunks to a CSV/TSV or Parquet file, so the whole output never sits in memory."""

    def __init__(self, path: Path):
        self.path = path
        name = path.name.lower()
        if not name.endswith((".csv", ".tsv", ".txt", ".parquet")):
            raise ValueError(f"unsupported output file {path}: use .csv, .tsv or .parquet")
        self.parquet = name.endswith(".parquet")
        self.sep = "," if name.endswith(".csv") else "\t"
        self._writer = None
        self._first = True

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._writer is None:
                schema = pa.Table.from_pandas(frame, preserve_index=False).schema
                # a first chunk whose labels are all NULL must not fix the column's type as null
                schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema])
                self._writer = pq.ParquetWriter(self.path, schema)
            self._writer.write_table(pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False))
        else:
            frame.to_csv(self.path, sep=self.sep, index=False, header=self._first, mode="w" if self._first else "a")
        self._first = False

    def __exit__(self, *exc):
        if self._writer is not None:
            self._writer.close()
        elif self._first and not self.parquet:
            self.path.write_text("")
        return False
