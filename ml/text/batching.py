"""Tokenize once, then batch by length and pad each batch only to its own longest text.

Comments are short and uneven (2 to 60 tokens): padding every batch to max_length would spend most compute on
padding, and random batches still pad to their longest member. Length bucketing shuffles the rows, cuts them into
windows of `bucket_batches` batches, sorts each window by length and cuts it into batches, then shuffles the
batch order: batches hold texts of similar length while every epoch still sees a different order and mix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .data import clip_text


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids per text with special tokens, cut to max_length tokens (no padding: batches pad themselves)."""
    if not texts:
        return []
    encoded = tokenizer([clip_text(t, max_length) for t in texts], add_special_tokens=True, truncation=True,
                        max_length=max_length, padding=False, return_attention_mask=False,
                        return_token_type_ids=False)
    return encoded["input_ids"]


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator,
                     bucket_batches: int = 50) -> list[np.ndarray]:
    """Row positions per training batch: shuffled, length-sorted within windows, batch order shuffled."""
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    window = batch_size * bucket_batches
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Row positions per inference batch: all rows sorted by length (the least padding; order is restored by
    the caller)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def pad_batch(token_ids: Sequence[Sequence[int]], pad_id: int, pad_to_multiple_of: int | None = None
              ) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask tensors padded to the batch's longest sequence (rounded up to a multiple of
    pad_to_multiple_of, which suits tensor cores on GPUs)."""
    longest = max(len(ids) for ids in token_ids)
    if pad_to_multiple_of:
        longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
    input_ids = torch.full((len(token_ids), longest), pad_id, dtype=torch.long)
    attention = torch.zeros((len(token_ids), longest), dtype=torch.long)
    for row, ids in enumerate(token_ids):
        input_ids[row, :len(ids)] = torch.as_tensor(ids, dtype=torch.long)
        attention[row, :len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention}


def iterate_batches(token_ids: Sequence[Sequence[int]], batches: Sequence[np.ndarray], pad_id: int,
                    device: torch.device, pad_to_multiple_of: int | None = None
                    ) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """(row positions, tensors on device) per batch."""
    non_blocking = device.type == "cuda"
    for rows in batches:
        tensors = pad_batch([token_ids[i] for i in rows], pad_id, pad_to_multiple_of)
        if non_blocking:
            tensors = {k: v.pin_memory() for k, v in tensors.items()}
        yield rows, {k: v.to(device, non_blocking=non_blocking) for k, v in tensors.items()}
