"""DNABERT-k (DNABERT 1): a transformers ``BertModel`` and a k-mer ``vocab.txt``."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterator

from transformers import BertConfig, BertModel

from ..core.errors import MednaError
from ..data.tokenize import KmerTokenizer


def build_dnabert(config: BertConfig | dict) -> BertModel:
    """A randomly initialised DNABERT-k encoder with a pooler."""
    if isinstance(config, dict):
        config = BertConfig(**config)
    return BertModel(config, add_pooling_layer=True)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No load reports or progress bars from transformers for the block: a DNABERT directory
    loaded into ``BertModel`` always lacks the pooler and carries an unused MLM head, and
    that is expected, not news."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def load_dnabert(directory: str | os.PathLike) -> tuple[BertModel, KmerTokenizer]:
    """Load a DNABERT-k directory (``config.json``, weights, ``vocab.txt``) from disk only.

    An MLM checkpoint without a pooler gets a freshly initialised one, as
    transformers does for ``BertModel``.
    """
    return _load(BertModel, Path(directory), add_pooling_layer=True)


def load_dnabert_mlm(directory: str | os.PathLike):
    """A DNABERT-k directory as ``BertForMaskedLM`` with its tokenizer, for continued
    pretraining (a directory without the MLM head gets a freshly initialised one)."""
    from transformers import BertForMaskedLM

    return _load(BertForMaskedLM, Path(directory))


def _load(model_class, directory: Path, **kwargs):
    for name in ("config.json", "vocab.txt"):
        if not (directory / name).exists():
            raise MednaError(f"{directory}: not a DNABERT-k directory (no {name})")
    try:
        json.loads((directory / "config.json").read_text())
        with quiet_transformers():
            model = model_class.from_pretrained(str(directory), local_files_only=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
        raise MednaError(f"{directory}: cannot load DNABERT-k encoder ({first_line})") from None
    return model, KmerTokenizer.from_file(directory / "vocab.txt")


@contextlib.contextmanager
def eager_attention(model: BertModel) -> Iterator[None]:
    """Switch a BertModel to eager attention for the block: sdpa returns no attention maps."""
    previous = model.config._attn_implementation
    if previous == "eager":
        yield
        return
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(previous)
