"""A miniature, randomly initialised BERT and a WordPiece tokenizer learnt from given texts, saved as a
backbone folder: for unit tests and smoke runs that must not depend on a pretrained model or take minutes.
Everything is built offline (tokenizers trains the vocabulary in milliseconds)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def build_tiny_backbone(folder: Path | str, texts: Iterable[str], *, hidden_size: int = 32, layers: int = 2,
                        heads: int = 2, vocab_size: int = 400, max_positions: int = 128, seed: int = 0) -> Path:
    """Write config.json, model.safetensors and tokenizer files of a tiny BERT to `folder`; returns it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                                          special_tokens=special))
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls_id),
                                                                                   ("[SEP]", sep_id)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=max_positions)
    fast.save_pretrained(folder)

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=hidden_size, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=hidden_size * 2,
                        max_position_embeddings=max_positions, pad_token_id=tokenizer.token_to_id("[PAD]"))
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    return folder
