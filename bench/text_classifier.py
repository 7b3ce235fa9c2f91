"""Text classifier fine-tuning and inference: throughput (samples/s) and validation macro-F1 for the default
backbone (all-MiniLM-L6-v2, mean pooling) on generated comments, next to transformers.Trainer doing the same
epoch on the same rows with the same model, optimiser and schedule.

    .venv/bin/python bench/text_classifier.py [--days 6] [--events-per-day 40000] [--train-rows 320]
        [--epochs 1] [--batch-size 16] [--device auto|cpu|cuda] [--threads N] [--repeats 2] [--skip-trainer]

What is measured (one process; the rows come from ml.text.train.prepare_training_data, so both loops see the
same training, validation and inference rows):

  ours      train_text_classifier: length-bucketed batches, dynamic padding, AdamW with separate encoder / head
            learning rates, linear warm-up and decay; bf16 autocast on CUDA. Training samples/s is measured over
            the training steps only (no validation), as Trainer's is.
  Trainer   the same PooledTextClassifier built the same way (same seed), DataCollatorWithPadding, group_by_length,
            our optimiser and schedule passed in (so only the loop differs), bf16 on CUDA.
  inference our length-sorted batched prediction vs Trainer.predict on the validation + test rows, both on
            already tokenized rows; and predict_proba end to end (tokenization included) on up to
            --inference-rows comments, annotated or not ("bulk").

The machine may be shared: the loops run alternately (ours, Trainer, ours, ...) --repeats times and the best
throughput of each is reported (interference only ever slows a run down); load averages go into the results.
Trainer needs the `accelerate` package, which is not a project dependency: without it the Trainer side is
skipped and the results say so (pip install -e ".[bench]" to include it).

The defaults take ~2-4 minutes on 2 busy CPU cores. On a GPU (--device cuda) use more rows, e.g.
--days 14 --events-per-day 200000 --train-rows 0 --epochs 1 --batch-size 32.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--events-per-day", type=int, default=40_000)
    parser.add_argument("--train-rows", type=int, default=320, help="cap on training rows (0: all)")
    parser.add_argument("--inference-rows", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eval-batch-size", type=int, default=128)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--pooling", default="mean", choices=("mean", "cls"))
    parser.add_argument("--backbone", help="default: the bundled all-MiniLM-L6-v2")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: the available cores)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-trainer", action="store_true")
    parser.add_argument("--work-dir", type=Path, help="where the generated days go (default: a temp folder)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from ml.text import TextTrainingConfig, generated_comments
    from ml.text.device import resolve_device

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="attnflow-text-bench-"))
    started = time.perf_counter()
    comments = generated_comments(work, start=dt.date(2026, 3, 1), days=args.days,
                                  events_per_day=args.events_per_day, seed=args.seed)
    generation_s = time.perf_counter() - started
    config = TextTrainingConfig(
        backbone=args.backbone, pooling=args.pooling, epochs=args.epochs, batch_size=args.batch_size,
        eval_batch_size=args.eval_batch_size, max_length=args.max_length, max_train_rows=args.train_rows or None,
        device=args.device, num_threads=args.threads, seed=args.seed, early_stopping_patience=args.epochs,
        baseline=True, log_every_steps=10_000)
    settings = resolve_device(config.device, config.precision, config.num_threads)
    trainer_available = importlib.util.find_spec("accelerate") is not None
    run_trainer = not args.skip_trainer and trainer_available

    ours, trainers = [], []
    load = [os.getloadavg()[0]]
    for repeat in range(args.repeats):
        ours.append(measure_ours(comments, config, args.inference_rows))
        load.append(os.getloadavg()[0])
        if run_trainer:
            trainers.append(measure_trainer(comments, config, settings))
            load.append(os.getloadavg()[0])
        print(f"repeat {repeat + 1}: ours {ours[-1]['train_samples_per_s']:.1f} train samples/s"
              + (f", Trainer {trainers[-1]['train_samples_per_s']:.1f}" if run_trainer else ""), flush=True)

    best = {key: max(run[key] for run in ours) for key in ("train_samples_per_s", "inference_samples_per_s",
                                                           "bulk_inference_samples_per_s")}
    first = ours[0]
    results = {
        "params": {**vars(args), "work_dir": str(work)},
        "device": settings.describe(),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
        "data": {"comments": int(len(comments)), "annotated": int(comments["label"].notna().sum()),
                 "generation_s": round(generation_s, 1), **first["rows"]},
        "ours": {
            "train_samples_per_s": round(best["train_samples_per_s"], 2),
            "inference_samples_per_s": round(best["inference_samples_per_s"], 2),
            "bulk_inference_samples_per_s": round(best["bulk_inference_samples_per_s"], 2),
            "validation_macro_f1": round(first["validation_macro_f1"], 4),
            "test_macro_f1": round(first["test_macro_f1"], 4),
            "test_truth_agreement": first["test_truth_agreement"],
            "tfidf_baseline_validation_macro_f1": round(first["baseline_validation_macro_f1"], 4),
            "tfidf_baseline_test_macro_f1": round(first["baseline_test_macro_f1"], 4),
            "runs": ours,
        },
        "load_average_1min": [round(x, 2) for x in load],
    }
    if run_trainer:
        trainer_best = {k: max(run[k] for run in trainers) for k in ("train_samples_per_s", "inference_samples_per_s")}
        results["trainer"] = {
            "train_samples_per_s": round(trainer_best["train_samples_per_s"], 2),
            "inference_samples_per_s": round(trainer_best["inference_samples_per_s"], 2),
            "validation_macro_f1": round(trainers[0]["validation_macro_f1"], 4),
            "runs": trainers,
        }
        results["ratio_ours_over_trainer"] = {
            "train_samples_per_s": round(best["train_samples_per_s"] / trainer_best["train_samples_per_s"], 3),
            "inference_samples_per_s": round(best["inference_samples_per_s"]
                                             / trainer_best["inference_samples_per_s"], 3),
        }
    else:
        results["trainer"] = ("skipped: --skip-trainer" if args.skip_trainer else
                              "skipped: transformers.Trainer needs the accelerate package (pip install accelerate)")
    write_results("text_classifier", results)


def measure_ours(comments, config, inference_rows: int) -> dict:
    import numpy as np

    from ml.text import train_text_classifier
    from ml.text.batching import tokenize
    from ml.text.train import prepare_training_data

    model, report = train_text_classifier(comments, config)
    data = prepare_training_data(comments, config)
    texts = [data.rows.texts[i] for i in np.concatenate([data.split.validation, data.split.test])]
    token_ids = tokenize(model.tokenizer, texts, config.max_length)
    started = time.perf_counter()  # like Trainer.predict: on already tokenized rows
    model.predict_token_ids(token_ids, config.eval_batch_size)
    inference = len(texts) / (time.perf_counter() - started)
    bulk = comments["text"].dropna().tolist()[:inference_rows]
    started = time.perf_counter()  # end to end: tokenization included
    model.predict_proba(bulk, config.eval_batch_size)
    bulk_inference = len(bulk) / (time.perf_counter() - started)
    agreement = (report.truth_agreement or {}).get("model")
    return {
        "rows": {"train": report.split["rows"]["train"], "validation": report.split["rows"]["validation"],
                 "test": report.split["rows"]["test"], "inference": len(texts), "bulk_inference": len(bulk)},
        "train_samples_per_s": report.training["train_samples_per_s"],
        "train_seconds": round(report.training["train_seconds"], 2),
        "inference_samples_per_s": inference,
        "bulk_inference_samples_per_s": bulk_inference,
        "validation_macro_f1": report.validation["model"]["macro_f1"],
        "test_macro_f1": report.model["macro_f1"],
        "test_truth_agreement": agreement["accuracy"] if agreement else None,
        "baseline_validation_macro_f1": report.validation["tfidf_logreg"]["macro_f1"],
        "baseline_test_macro_f1": report.baseline["macro_f1"],
    }


def measure_trainer(comments, config, settings) -> dict:
    """The same epoch(s) with transformers.Trainer: same rows, model construction, seed, optimiser, schedule."""
    import math

    import numpy as np
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from ml.text.batching import tokenize
    from ml.text.device import torch_threads
    from ml.text.evaluate import classification_metrics
    from ml.text.train import build_classifier, build_optimizer, prepare_training_data

    data = prepare_training_data(comments, config)
    classifier = build_classifier(config, data.label_set, settings)
    token_ids = tokenize(classifier.tokenizer, data.rows.texts, config.max_length)

    def dataset(rows):
        return [{"input_ids": token_ids[i], "labels": int(data.y[i])} for i in rows]

    train, evaluation_rows = dataset(data.train_rows), np.concatenate([data.split.validation, data.split.test])
    steps = math.ceil(math.ceil(len(train) / config.batch_size) / config.gradient_accumulation_steps) * config.epochs
    optimizer, scheduler = build_optimizer(classifier.model, config, steps)
    cuda = settings.device.type == "cuda"
    with tempfile.TemporaryDirectory() as output_dir, torch_threads(settings):
        arguments = TrainingArguments(
            output_dir=output_dir, num_train_epochs=config.epochs, per_device_train_batch_size=config.batch_size,
            per_device_eval_batch_size=config.eval_batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps, max_grad_norm=config.max_grad_norm,
            group_by_length=True, seed=config.seed, data_seed=config.seed, report_to=[], save_strategy="no",
            eval_strategy="no", logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0,
            use_cpu=not cuda, bf16=cuda and settings.precision == "bf16", fp16=cuda and settings.precision == "fp16",
            remove_unused_columns=False,
        )
        collator = DataCollatorWithPadding(classifier.tokenizer, pad_to_multiple_of=8 if cuda else None)
        trainer = Trainer(model=classifier.model, args=arguments, train_dataset=train, data_collator=collator,
                          optimizers=(optimizer, scheduler))
        started = time.perf_counter()
        trainer.train()
        if cuda:
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - started
        # With group_by_length, Trainer.predict also length-groups (and shuffles) the evaluation rows
        # (transformers 4.57), so predictions come back out of input order: pair them with output.label_ids,
        # which are in the same order, never with the input rows.
        started = time.perf_counter()
        validation = trainer.predict(dataset(data.split.validation))
        trainer.predict(dataset(data.split.test))
        inference = len(evaluation_rows) / (time.perf_counter() - started)
    predicted = validation.predictions
    predicted = np.asarray(predicted[0] if isinstance(predicted, tuple) else predicted).argmax(axis=1)
    validation_f1 = classification_metrics(validation.label_ids, predicted, data.label_set.labels)["macro_f1"]
    return {"train_samples_per_s": len(train) * config.epochs / train_seconds, "train_seconds": round(train_seconds, 2),
            "inference_samples_per_s": inference, "validation_macro_f1": validation_f1}


if __name__ == "__main__":
    main()
