"""Fine-tuning: train_text_classifier(frame, config) -> (TextClassifier, TextEvaluationReport).

    rows -> label set -> leak-free split -> tokenize once -> length-bucketed batches, dynamic padding
         -> AdamW (encoder and head at their own learning rates), linear warm-up then decay, gradient
            accumulation, clipping, mixed precision on CUDA -> validation macro-F1 after each epoch, the best
            epoch's weights kept, early stop after `early_stopping_patience` epochs without improvement
         -> test metrics for the model and the TF-IDF baseline on the same rows

Seeds: Python, NumPy and torch are seeded from config.seed, so a CPU run is repeatable. Progress, loss, learning
rate and throughput (samples/s) go to the "ml.text" logger.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from .backbone import load_backbone, resolve_backbone
from .baseline import TfidfLogisticBaseline
from .batching import bucketed_batches, iterate_batches, tokenize
from .classifier import TextClassifier
from .config import TextTrainingConfig
from .data import LabelledRows, labelled_rows
from .device import DeviceSettings, resolve_device, torch_threads
from .evaluate import BASELINE, MODEL, TextEvaluationReport, classification_metrics, truth_agreement
from .labels import LabelSet
from .modeling import PooledTextClassifier
from .split import TextSplit, split_rows

log = logging.getLogger("ml.text")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def build_optimizer(model: PooledTextClassifier, config: TextTrainingConfig, total_steps: int):
    """AdamW with two learning rates (pretrained encoder, fresh head), no weight decay on biases and LayerNorm
    weights, and a linear warm-up over warmup_ratio of the steps followed by linear decay to zero."""
    from transformers import get_linear_schedule_with_warmup

    groups = {(False, False): [], (False, True): [], (True, False): [], (True, True): []}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        is_head = not name.startswith("encoder.")
        no_decay = parameter.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
        groups[(is_head, no_decay)].append(parameter)
    param_groups = [
        {"params": params, "lr": config.head_learning_rate if is_head else config.learning_rate,
         "weight_decay": 0.0 if no_decay else config.weight_decay}
        for (is_head, no_decay), params in groups.items() if params
    ]
    optimizer = torch.optim.AdamW(param_groups, fused=next(model.parameters()).is_cuda)
    warmup = int(round(config.warmup_ratio * total_steps))
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total_steps)
    return optimizer, scheduler


@dataclass
class PreparedData:
    """The annotated rows, their label ids and the split, as training uses them (the benchmark reuses it to
    give transformers.Trainer exactly the same rows)."""

    rows: LabelledRows
    label_set: LabelSet
    y: np.ndarray
    split: TextSplit
    train_rows: np.ndarray  # split.train, or a seeded sample of it when config.max_train_rows caps it


def prepare_training_data(frame: pd.DataFrame, config: TextTrainingConfig) -> PreparedData:
    """Rows -> label set -> split, with every data check that must fail before a model is loaded."""
    rows = labelled_rows(frame, config.text_column, config.label_column, config.time_column, config.user_column,
                         config.id_column, config.truth_column)
    label_set = LabelSet.from_data(rows.labels, config.labels)
    y = label_set.encode(rows.labels)
    split = split_rows(rows.labels, rows.time, rows.users, config.split, config.seed)
    train_rows = split.train
    if config.max_train_rows and len(train_rows) > config.max_train_rows:
        sample = np.random.default_rng(config.seed).choice(len(train_rows), config.max_train_rows, replace=False)
        train_rows = np.sort(train_rows[sample])
    for part, positions in (("training", train_rows), ("validation", split.validation), ("test", split.test)):
        if len(positions) == 0:
            raise ValueError(f"the {part} part of the {split.mode} split is empty; add data or change the split")
    if len(np.unique(y[train_rows])) < 2:
        raise ValueError(f"the training part holds a single class ({label_set.decode(y[train_rows][:1])}); "
                         "a classifier needs at least two")
    missing = sorted(set(label_set.labels) - set(label_set.decode(np.unique(y[train_rows]))))
    if missing:
        log.warning("labels with no training rows (the model will rarely predict them): %s", missing)
    return PreparedData(rows, label_set, y, split, train_rows)


def build_classifier(config: TextTrainingConfig, label_set: LabelSet, settings: DeviceSettings) -> TextClassifier:
    """The untrained classifier: pretrained encoder + freshly initialised head (seeded), on settings.device."""
    seed_everything(config.seed)
    source, backbone_name = resolve_backbone(config.backbone)
    encoder, tokenizer = load_backbone(source, config.dropout)
    model = PooledTextClassifier(encoder, len(label_set), config.pooling, config.dropout)
    return TextClassifier(model, tokenizer, label_set, backbone_name, config.max_length, config.to_dict(), settings)


def train_text_classifier(frame: pd.DataFrame, config: TextTrainingConfig | None = None
                          ) -> tuple[TextClassifier, TextEvaluationReport]:
    """Fine-tune config.backbone on the annotated rows of `frame` and evaluate it next to the TF-IDF baseline.

    Raises ValueError for data that cannot train a classifier: no annotated rows, a single class, labels outside
    a fixed label set, non-string text, too few days/users for the split, a training part with a single class.
    """
    config = config or TextTrainingConfig()
    started = time.perf_counter()
    data = prepare_training_data(frame, config)
    rows, label_set, y, split, train_rows = data.rows, data.label_set, data.y, data.split, data.train_rows

    settings = resolve_device(config.device, config.precision, config.num_threads)
    classifier = build_classifier(config, label_set, settings)
    backbone_name, tokenizer = classifier.backbone_name, classifier.tokenizer
    log.info("training %s (%s pooling) on %d rows (validation %d, test %d; %s split), labels %s, %s",
             backbone_name, config.pooling, len(train_rows), len(split.validation), len(split.test), split.mode,
             label_set.labels, settings.describe())

    token_ids = tokenize(tokenizer, rows.texts, config.max_length)
    with torch_threads(settings):
        training = _fit(classifier, token_ids, y, train_rows, split.validation, config, settings)

    def evaluate_part(positions):
        predicted = classifier.predict_token_ids([token_ids[i] for i in positions],
                                                 config.eval_batch_size).argmax(axis=1)
        return predicted, classification_metrics(y[positions], predicted, label_set.labels)

    inference_started = time.perf_counter()
    test_predicted, test_metrics = evaluate_part(split.test)
    training["test_inference_samples_per_s"] = len(split.test) / max(time.perf_counter() - inference_started, 1e-9)
    _, validation_metrics = evaluate_part(split.validation)
    validation, test = {MODEL: validation_metrics}, {MODEL: test_metrics}

    predictions = pd.DataFrame({"text": [rows.texts[i] for i in split.test], "label": rows.labels[split.test],
                                MODEL: label_set.decode(test_predicted)})
    if rows.ids is not None:
        predictions.insert(0, "id", rows.ids.iloc[split.test].astype(str).to_numpy())
    if config.baseline:
        baseline_started = time.perf_counter()
        baseline = TfidfLogisticBaseline(seed=config.seed).fit([rows.texts[i] for i in train_rows], y[train_rows])
        for part, positions, metrics in (("validation", split.validation, validation), ("test", split.test, test)):
            predicted = baseline.predict([rows.texts[i] for i in positions])
            metrics[BASELINE] = classification_metrics(y[positions], predicted, label_set.labels)
            if part == "test":
                predictions[BASELINE] = label_set.decode(predicted)
        training["baseline_seconds"] = time.perf_counter() - baseline_started
    if rows.truth is not None:
        predictions["truth"] = rows.truth.iloc[split.test].to_numpy()

    training["total_seconds"] = time.perf_counter() - started
    described = split.describe()
    described["rows"]["train"] = int(len(train_rows))
    report = TextEvaluationReport(
        labels=label_set.labels, split=described, rows={**rows.counts, **described["rows"]},
        validation=validation, test=test, training=training, config=config.to_dict(),
        columns=rows.columns, backbone=backbone_name, test_predictions=predictions,
    )
    report.truth_agreement = truth_agreement(predictions)
    log.info("test macro-F1 %.4f (baseline %s), accuracy %.4f", test_metrics["macro_f1"],
             f"{test[BASELINE]['macro_f1']:.4f}" if BASELINE in test else "-", test_metrics["accuracy"])
    return classifier, report


def _fit(classifier: TextClassifier, token_ids: list[list[int]], y: np.ndarray, train_rows: np.ndarray,
         validation_rows: np.ndarray, config: TextTrainingConfig, settings: DeviceSettings) -> dict:
    """The training loop; leaves the best validation epoch's weights in classifier.model."""
    model, device = classifier.model, settings.device
    pad_id = classifier.tokenizer.pad_token_id
    pad_multiple = 8 if device.type == "cuda" else None
    train_ids = [token_ids[i] for i in train_rows]
    train_y = torch.as_tensor(y[train_rows])
    validation_ids = [token_ids[i] for i in validation_rows]
    lengths = [len(ids) for ids in train_ids]
    batches_per_epoch = math.ceil(len(train_ids) / config.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / config.gradient_accumulation_steps)
    optimizer, scheduler = build_optimizer(model, config, steps_per_epoch * config.epochs)
    scaler = torch.amp.GradScaler(device.type) if settings.needs_grad_scaler else None
    rng = np.random.default_rng(config.seed)

    history, best_f1, best_epoch, best_state, stale = [], -1.0, 0, None, 0
    train_seconds, train_samples, step = 0.0, 0, 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        batches = bucketed_batches(lengths, config.batch_size, rng, config.bucket_batches)
        epoch_started = window_started = time.perf_counter()
        epoch_loss, window_samples = 0.0, 0
        optimizer.zero_grad(set_to_none=True)
        for i, (rows, batch) in enumerate(iterate_batches(train_ids, batches, pad_id, device, pad_multiple)):
            labels = train_y[rows].to(device, non_blocking=True)
            with settings.autocast():
                loss = model(**batch, labels=labels)["loss"]
            scaled = loss / config.gradient_accumulation_steps
            (scaler.scale(scaled) if scaler else scaled).backward()
            epoch_loss += float(loss.detach()) * len(rows)
            window_samples += len(rows)
            if (i + 1) % config.gradient_accumulation_steps == 0 or i + 1 == len(batches):
                if scaler:
                    scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                if step % config.log_every_steps == 0:
                    elapsed = time.perf_counter() - window_started
                    log.info("epoch %d step %d/%d loss %.4f lr %.2e %.1f samples/s", epoch, step,
                             steps_per_epoch * config.epochs, float(loss.detach()), scheduler.get_last_lr()[0],
                             window_samples / max(elapsed, 1e-9))
                    window_started, window_samples = time.perf_counter(), 0
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        epoch_seconds = time.perf_counter() - epoch_started
        train_seconds += epoch_seconds
        train_samples += len(train_ids)

        evaluated = time.perf_counter()
        predicted = classifier.predict_token_ids(validation_ids, config.eval_batch_size).argmax(axis=1)
        validation_f1 = classification_metrics(y[validation_rows], predicted, classifier.labels)["macro_f1"]
        history.append({"epoch": epoch, "train_loss": epoch_loss / len(train_ids), "validation_macro_f1": validation_f1,
                        "train_seconds": epoch_seconds, "train_samples_per_s": len(train_ids) / epoch_seconds,
                        "validation_seconds": time.perf_counter() - evaluated})
        log.info("epoch %d: train loss %.4f, validation macro-F1 %.4f, %.1f train samples/s (%.1f s)", epoch,
                 history[-1]["train_loss"], validation_f1, history[-1]["train_samples_per_s"], epoch_seconds)
        if validation_f1 > best_f1:
            best_f1, best_epoch, stale = validation_f1, epoch, 0
            if epoch < config.epochs:  # the last epoch's weights are in the model already
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            else:
                best_state = None
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                log.info("early stop after epoch %d: no better validation macro-F1 for %d epoch(s); best epoch %d",
                         epoch, stale, best_epoch)
                break
    if best_state is not None and best_epoch != history[-1]["epoch"]:
        model.load_state_dict(best_state)
    model.eval()
    return {"epochs_run": len(history), "best_epoch": best_epoch, "best_validation_macro_f1": best_f1,
            "history": history, "optimizer_steps": step, "train_seconds": train_seconds,
            "train_samples_per_s": train_samples / max(train_seconds, 1e-9), **settings.describe()}
