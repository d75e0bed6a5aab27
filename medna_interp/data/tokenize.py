"""Tokenizers for the two views, each token carrying the nucleotide span it covers.

The k-mer view follows DNABERT: a ``vocab.txt`` of special tokens followed by the 4^k
k-mers, and a window becomes its overlapping k-mers between [CLS] and [SEP]. The BPE
view follows DNABERT-2: a ``tokenizer.json`` for the ``tokenizers`` library, whose
character offsets become nucleotide spans.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from ..core.errors import MednaError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclass
class TokenBatch:
    """A padded batch of token ids with nucleotide spans.

    Attributes
    ----------
    input_ids : torch.LongTensor, shape (B, L)
    attention_mask : torch.LongTensor, shape (B, L), 1 for real positions (specials included)
    spans : np.ndarray of int32, shape (B, L, 2), half-open [start, end) in bases;
        (-1, -1) for special and padding positions
    tokens : list of B lists of token strings (specials included, padding excluded)
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    spans: np.ndarray
    tokens: list[list[str]]

    @property
    def is_sequence_token(self) -> np.ndarray:
        """Boolean mask, shape (B, L): positions that cover bases (not special, not padding)."""
        return self.spans[..., 0] >= 0

    def sequence_tokens(self, row: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Row ``row`` without specials and padding: token strings, spans (T, 2), and the
        boolean position mask (L,) that selects them."""
        keep = self.is_sequence_token[row]
        tokens = [t for t, k in zip(self.tokens[row], keep[: len(self.tokens[row])]) if k]
        return tokens, self.spans[row][keep], keep

    def to(self, device: torch.device | str) -> "TokenBatch":
        return TokenBatch(self.input_ids.to(device), self.attention_mask.to(device), self.spans, self.tokens)


def span_cover(spans: np.ndarray, length: int) -> np.ndarray:
    """Boolean (T, length): which bases each of T tokens covers, from spans (T, 2)."""
    position = np.arange(length)
    return (position[None, :] >= spans[:, :1]) & (position[None, :] < spans[:, 1:])


def _pad(rows: list[list[int]], spans: list[list[tuple[int, int]]], tokens, pad_id: int) -> TokenBatch:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    span_array = np.full((len(rows), width, 2), -1, dtype=np.int32)
    for i, (row, row_spans) in enumerate(zip(rows, spans)):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
        span_array[i, : len(row)] = np.asarray(row_spans, dtype=np.int32).reshape(-1, 2)
    return TokenBatch(ids, mask, span_array, tokens)


def kmer_vocabulary(k: int) -> list[str]:
    """DNABERT's vocabulary layout: the five special tokens, then all 4^k k-mers."""
    return list(SPECIAL_TOKENS) + ["".join(p) for p in itertools.product("ACGT", repeat=k)]


class KmerTokenizer:
    """Overlapping k-mers (k = 3..6) looked up in a DNABERT ``vocab.txt``."""

    def __init__(self, vocabulary: list[str], k: int):
        if not 3 <= k <= 6:
            raise MednaError(f"k-mer size must be between 3 and 6, got {k}")
        self.k = k
        self.vocabulary = list(vocabulary)
        self.index = {token: i for i, token in enumerate(self.vocabulary)}
        missing = [t for t in SPECIAL_TOKENS if t not in self.index]
        if missing:
            raise MednaError(f"k-mer vocabulary lacks special tokens {missing}")
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (self.index[t] for t in SPECIAL_TOKENS)

    @classmethod
    def from_file(cls, path: str | os.PathLike, k: int | None = None) -> "KmerTokenizer":
        path = Path(path)
        try:
            vocabulary = [line.rstrip("\n") for line in path.read_text().splitlines() if line.strip()]
        except OSError as error:
            raise MednaError(f"{path}: cannot read k-mer vocabulary ({error.strerror})") from None
        kmers = [t for t in vocabulary if t not in SPECIAL_TOKENS]
        if not kmers:
            raise MednaError(f"{path}: vocabulary has no k-mers")
        inferred = len(kmers[0])
        if k is not None and k != inferred:
            raise MednaError(f"{path}: vocabulary holds {inferred}-mers, but k = {k} was requested")
        return cls(vocabulary, inferred)

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text("\n".join(self.vocabulary) + "\n")

    def __len__(self) -> int:
        return len(self.vocabulary)

    def kmers(self, sequence: str) -> list[str]:
        return [sequence[i : i + self.k] for i in range(len(sequence) - self.k + 1)]

    def encode(self, sequences: Iterable[str]) -> TokenBatch:
        """Encode windows as [CLS] k-mer_1 ... k-mer_(n-k+1) [SEP]."""
        rows, spans, tokens = [], [], []
        for sequence in sequences:
            kmers = self.kmers(sequence)
            rows.append([self.cls_id] + [self.index.get(t, self.unk_id) for t in kmers] + [self.sep_id])
            spans.append([(-1, -1)] + [(i, i + self.k) for i in range(len(kmers))] + [(-1, -1)])
            tokens.append(["[CLS]"] + kmers + ["[SEP]"])
        return _pad(rows, spans, tokens, self.pad_id)


class BpeTokenizer:
    """DNABERT-2 style BPE from a ``tokenizer.json``."""

    def __init__(self, tokenizer, source: str = ""):
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.source = source
        ids = {t: tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
        missing = [t for t, i in ids.items() if i is None]
        if missing:
            raise MednaError(f"{source or 'tokenizer.json'}: BPE vocabulary lacks special tokens {missing}")
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (ids[t] for t in SPECIAL_TOKENS)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "BpeTokenizer":
        from tokenizers import Tokenizer

        try:
            return cls(Tokenizer.from_file(str(path)), str(path))
        except Exception as error:  # tokenizers raises plain Exception subclasses
            raise MednaError(f"{path}: cannot load BPE tokenizer ({error})") from None

    def save(self, path: str | os.PathLike) -> None:
        self.tokenizer.save(str(path))

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, sequences: Iterable[str]) -> TokenBatch:
        """Encode windows as [CLS] bpe_1 ... bpe_n [SEP] (padded to the longest)."""
        sequences = list(sequences)
        rows, spans, tokens = [], [], []
        for encoding in self.tokenizer.encode_batch(sequences):
            ids, offsets, pieces = list(encoding.ids), list(encoding.offsets), list(encoding.tokens)
            special = list(encoding.special_tokens_mask)
            if not ids or ids[0] != self.cls_id:
                # A tokenizer.json without a post-processor: wrap as DNABERT-2's does.
                ids, offsets, pieces = [self.cls_id, *ids, self.sep_id], [(0, 0), *offsets, (0, 0)], ["[CLS]", *pieces, "[SEP]"]
                special = [1, *special, 1]
            rows.append(ids)
            spans.append([(-1, -1) if s else (a, b) for (a, b), s in zip(offsets, special)])
            tokens.append(pieces)
        return _pad(rows, spans, tokens, self.pad_id)


def train_bpe_tokenizer(sequences: Iterable[str], vocab_size: int = 256) -> BpeTokenizer:
    """Train a small DNABERT-2-layout BPE tokenizer on DNA windows (for the demo and tests).

    Special-token ids follow DNABERT-2: [UNK] 0, [CLS] 1, [SEP] 2, [PAD] 3, [MASK] 4.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"],
        initial_alphabet=list("ACGT"),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(sequences), trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 1), ("[SEP]", 2)],
    )
    return BpeTokenizer(tokenizer)
