"""The fitted text classifier: encoder + head + tokenizer + label map, saved to and loaded from one folder.

Everything needed to score lives in the folder, so a fresh process (a Dagster asset, a batch job, the registry)
loads it without the training code's settings or any network access:

    text_model.json    labels (in class-index order), backbone name, pooling, max_length, training config
    encoder/           the fine-tuned encoder and its tokenizer (save_pretrained: config.json, model.safetensors,
                       tokenizer files)
    head.safetensors   the classification head
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .batching import iterate_batches, sorted_batches, tokenize
from .data import check_texts
from .device import DeviceSettings, resolve_device, torch_threads
from .labels import LabelSet
from .modeling import PooledTextClassifier

log = logging.getLogger("ml.text")

MODEL_FILE = "text_model.json"
ENCODER_DIR = "encoder"
HEAD_FILE = "head.safetensors"
FORMAT_VERSION = 1


class TextClassifier:
    def __init__(self, model: PooledTextClassifier, tokenizer, labels: LabelSet, backbone_name: str,
                 max_length: int, config: dict | None = None, settings: DeviceSettings | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.label_set = labels
        self.backbone_name = backbone_name
        self.max_length = max_length
        self.config = config or {}
        self.settings = settings or resolve_device("cpu")
        self.model.to(self.settings.device)
        self.model.eval()

    @property
    def labels(self) -> list[str]:
        return list(self.label_set.labels)

    @property
    def pooling(self) -> str:
        return self.model.pooling

    @property
    def probability_columns(self) -> list[str]:
        return [f"p_{label}" for label in self.labels]

    # ---- inference ---------------------------------------------------------------------------------------

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities, shape (len(texts), len(labels)), columns in `labels` order. Texts must be
        strings (ValueError otherwise); long texts are cut to max_length tokens. Batches are formed by length
        (least padding) and the rows are returned in input order."""
        texts = check_texts(texts)
        if not texts:
            return np.empty((0, len(self.labels)), dtype=np.float32)
        token_ids = tokenize(self.tokenizer, texts, self.max_length)
        return self.predict_token_ids(token_ids, batch_size)

    def predict_token_ids(self, token_ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
        """predict_proba for already tokenized texts (used by training's evaluation, which tokenizes once)."""
        probabilities = np.empty((len(token_ids), len(self.labels)), dtype=np.float32)
        batches = sorted_batches([len(ids) for ids in token_ids], batch_size)
        pad_multiple = 8 if self.settings.device.type == "cuda" else None
        self.model.eval()
        with torch_threads(self.settings), torch.inference_mode(), self.settings.autocast():
            for rows, batch in iterate_batches(token_ids, batches, self.tokenizer.pad_token_id,
                                               self.settings.device, pad_multiple):
                logits = self.model(**batch)["logits"]
                probabilities[rows] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return probabilities

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[str]:
        """The most probable label per text."""
        return self.label_set.decode(self.predict_proba(texts, batch_size).argmax(axis=1))

    def evaluate(self, texts: Sequence[str], labels: Sequence[str], batch_size: int = 64) -> dict:
        """Accuracy, macro-F1, per-class precision/recall and the confusion matrix on labelled texts (labels
        outside this model's label set are an error)."""
        from .evaluate import classification_metrics

        y = self.label_set.encode(labels)
        return classification_metrics(y, self.predict_proba(texts, batch_size).argmax(axis=1), self.labels)

    def score_in_chunks(self, source: Iterable, **kwargs):
        """Stream predictions for an iterable of DataFrames or of texts; see scoring.score_in_chunks."""
        from .scoring import score_in_chunks

        return score_in_chunks(self, source, **kwargs)

    def throughput(self, texts: Sequence[str], batch_size: int = 64) -> float:
        """Inference samples per second on `texts` (tokenization included)."""
        started = time.perf_counter()
        self.predict_proba(texts, batch_size)
        return len(texts) / max(time.perf_counter() - started, 1e-9)

    # ---- persistence -------------------------------------------------------------------------------------

    def save(self, folder: Path | str) -> Path:
        """Write the model folder (created if needed; existing files of the same names are replaced)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        encoder_dir = folder / ENCODER_DIR
        self.model.encoder.save_pretrained(encoder_dir, safe_serialization=True)
        self.tokenizer.save_pretrained(encoder_dir)
        head = {f"classifier.{k}": v.detach().cpu().contiguous() for k, v in self.model.classifier.state_dict().items()}
        save_file(head, folder / HEAD_FILE)
        record = {
            "format_version": FORMAT_VERSION,
            "labels": self.labels,
            "backbone": self.backbone_name,
            "pooling": self.pooling,
            "max_length": self.max_length,
            "dropout": self.model.dropout.p,
            "config": self.config,
            "versions": _library_versions(),
        }
        (folder / MODEL_FILE).write_text(json.dumps(record, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path | str, device: str = "cpu", num_threads: int = 0) -> "TextClassifier":
        """Load a folder written by save(). device "auto" takes CUDA when present (scoring in bf16 there)."""
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        if not (folder / MODEL_FILE).is_file():
            raise FileNotFoundError(f"{folder} is not a text model folder (no {MODEL_FILE})")
        record = json.loads((folder / MODEL_FILE).read_text())
        if record.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{folder} was written by a newer attnflow (format {record['format_version']})")
        encoder = AutoModel.from_pretrained(folder / ENCODER_DIR)
        tokenizer = AutoTokenizer.from_pretrained(folder / ENCODER_DIR)
        labels = LabelSet(record["labels"])
        model = PooledTextClassifier(encoder, len(labels), record["pooling"], record.get("dropout"))
        head = load_file(folder / HEAD_FILE)
        model.classifier.load_state_dict({k.removeprefix("classifier."): v for k, v in head.items()})
        settings = resolve_device(device, "auto", num_threads)
        return cls(model, tokenizer, labels, record["backbone"], int(record["max_length"]), record.get("config"),
                   settings)


def _library_versions() -> dict:
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}
