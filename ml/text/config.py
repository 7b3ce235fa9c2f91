"""Training settings for the text classifier, in one serialisable place (they go into the report, the saved
model and the registry)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

POOLINGS = ("mean", "cls")
SPLIT_MODES = ("auto", "time", "user", "random")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass
class TextSplitConfig:
    """How rows are split into train / validation / test without leakage.

    mode: "time" (whole days: the latest `test` days test, the `validation` days before them validate, earlier
    days train), "user" (whole users, assigned by a stable hash of the user id: nobody is in two parts), "random"
    (seeded, stratified by label; only for data with neither a time nor a user column) or "auto" (time when a
    time column exists, else user, else random). An int counts days or users, a float in (0, 1) is a fraction of
    them (of rows for "random"). None: 1 day each by time, 15% by user or at random.
    """

    mode: str = "auto"
    validation: int | float | None = None
    test: int | float | None = None

    def __post_init__(self):
        if self.mode not in SPLIT_MODES:
            raise ValueError(f"split mode must be one of {SPLIT_MODES}, not {self.mode!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TextTrainingConfig:
    """Everything train_text_classifier needs besides the data.

    Columns left as "auto" are found by name (text: comment_text/text; label: label; time: event_date/event_ts/
    date; user: user_key/user_id; id: comment_id/event_id/id; truth: true_sentiment). `labels` fixes the label
    set (rows with any other label are an error); None takes the labels found in the annotated rows.
    Texts longer than `max_length` tokens are cut to their first max_length tokens (after the text itself is cut
    to max_length * 16 characters, which bounds tokenizer work on pathological inputs).
    """

    backbone: str | None = None  # local folder or hub id; None: the bundled all-MiniLM-L6-v2 (backbone.py)
    # Mean pooling beats the [CLS] pooler on generated comments (all-MiniLM-L6-v2, figures in __init__.py).
    pooling: str = "mean"
    max_length: int = 128
    labels: tuple[str, ...] | None = None

    epochs: int = 4
    # Small batches and a high learning rate suit a 6-layer encoder on a few hundred to a few thousand labelled
    # comments. On 400 generated comments, one epoch at batch 32 / lr 1e-4 / head 2e-3 (13 steps) reached
    # validation macro-F1 0.38; at batch 16 / 2e-4 / head 5e-3 one epoch reached 0.81 and a second 0.85.
    batch_size: int = 16
    eval_batch_size: int = 128
    gradient_accumulation_steps: int = 1
    learning_rate: float = 2e-4  # encoder
    head_learning_rate: float = 5e-3  # the freshly initialised classification head learns faster
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1  # share of optimiser steps with a linear warm-up, then linear decay to 0
    max_grad_norm: float = 1.0
    dropout: float | None = None  # None: the backbone's own (0.1 for BERT); also used before the head
    early_stopping_patience: int = 1  # epochs without a better validation macro-F1 before stopping
    bucket_batches: int = 50  # length bucketing: sort by length within windows of this many batches
    max_train_rows: int | None = None  # cap (a seeded sample) to bound training time

    seed: int = 7
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    precision: str = "auto"  # "auto": bf16 autocast on CUDA when supported, else fp16 + GradScaler; fp32 on CPU
    num_threads: int = 0  # CPU threads for torch; 0: the cores this process may use
    log_every_steps: int = 20

    split: TextSplitConfig = field(default_factory=TextSplitConfig)
    baseline: bool = True  # TF-IDF + logistic regression on the same split

    text_column: str = "auto"
    label_column: str = "auto"
    time_column: str | None = "auto"
    user_column: str | None = "auto"
    id_column: str | None = "auto"
    truth_column: str | None = "auto"

    def __post_init__(self):
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {self.precision!r}")
        for name in ("max_length", "epochs", "batch_size", "eval_batch_size", "gradient_accumulation_steps",
                     "bucket_batches", "log_every_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8 tokens")
        if self.labels is not None:
            self.labels = tuple(str(label) for label in self.labels)
        if isinstance(self.split, dict):
            self.split = TextSplitConfig(**self.split)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["labels"] = list(self.labels) if self.labels is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TextTrainingConfig":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if isinstance(data.get("split"), dict):
            data["split"] = TextSplitConfig(**data["split"])
        return cls(**data)
