"""The network: a pretrained encoder, a pooling step and a linear classification head.

Two poolings:
- "mean": average of the last layer's token vectors over the real (unpadded) tokens. all-MiniLM-L6-v2 was
  trained (as a sentence-transformer) to make exactly this average a good sentence vector, so the head starts
  from a representation that already separates meanings.
- "cls": the encoder's pooler output (tanh(W * h_[CLS])), what AutoModelForSequenceClassification uses; the raw
  [CLS] vector when the encoder has no pooler. MiniLM's pooler was never trained for sentence meaning.

forward() follows the Hugging Face convention (labels in, {"loss", "logits"} out) so the same module can also be
trained by transformers.Trainer (the benchmark compares the two loops).
"""

from __future__ import annotations

import torch
from torch import nn


class PooledTextClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_labels: int, pooling: str = "mean", dropout: float | None = None):
        super().__init__()
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls', not {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        hidden = encoder.config.hidden_size
        if dropout is None:
            dropout = getattr(encoder.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)
        nn.init.normal_(self.classifier.weight, std=0.02)
        nn.init.zeros_(self.classifier.bias)

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        if self.pooling == "cls":
            pooled = getattr(output, "pooler_output", None)
            return pooled if pooled is not None else output.last_hidden_state[:, 0]
        hidden = output.last_hidden_state.float()
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor | None = None,
                **_ignored) -> dict:
        logits = self.classifier(self.dropout(self.pool(input_ids, attention_mask))).float()
        result = {"logits": logits}
        if labels is not None:
            result["loss"] = nn.functional.cross_entropy(logits, labels)
        return result
