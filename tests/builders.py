"""Tiny models written in the same on-disk formats as the real ones."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

from medna_interp.models.dnabert2 import DnaBert2Config, DnaBert2Model, save_dnabert2
from medna_interp.data.tokenize import kmer_vocabulary, train_bpe_tokenizer

WIDTH = 32


def random_sequences(n: int, length: int = 41, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("ACGT") for _ in range(length)) for _ in range(n)]


def write_dnabert_dir(directory: Path, k: int = 6, seed: int = 0) -> Path:
    """A DNABERT-k directory: BertModel.save_pretrained + vocab.txt."""
    torch.manual_seed(seed)
    vocabulary = kmer_vocabulary(k)
    config = BertConfig(vocab_size=len(vocabulary), hidden_size=WIDTH, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(directory)
    (directory / "vocab.txt").write_text("\n".join(vocabulary) + "\n")
    return directory


def write_dnabert2_dir(directory: Path, seed: int = 0, heads: int = 4) -> Path:
    """A DNABERT-2 directory in the public layout: config.json, bert.-prefixed weights, tokenizer.json."""
    torch.manual_seed(seed)
    tokenizer = train_bpe_tokenizer(random_sequences(300, seed=seed), vocab_size=64)
    config = DnaBert2Config(vocab_size=len(tokenizer), hidden_size=WIDTH, num_hidden_layers=2,
                            num_attention_heads=heads, intermediate_size=64)
    save_dnabert2(DnaBert2Model(config), directory, tokenizer)
    return directory
