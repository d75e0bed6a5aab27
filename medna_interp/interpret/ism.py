"""Saturation mutagenesis (ISM): every single-base substitution of every window, scored.

A window of L bases has 3 L single-base variants. They are tokenised like any window
(both views re-tokenise the variant, so a substitution changes every k-mer and BPE
token that covers it) and scored in large batches that mix windows. We write the batched
loop rather than use tangermeme's ``saturation_mutagenesis``: that one perturbs one-hot
tensors fed straight to a model, while MEDNA-DFM reads token ids of two tokenisers, so an
adapter would decode one-hot back to strings and tokenise anyway, which is all this does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..core.sequence import BASES
from ..models.medna_dfm import MednaDFM


@dataclass(frozen=True)
class IsmResult:
    """Log-odds of P(modified) for every substitution.

    Attributes
    ----------
    scores : np.ndarray, shape (N, L, 4): log-odds with base b at position l (the
        wild-type base's entry is the wild-type log-odds)
    reference : np.ndarray, shape (N,): the wild-type log-odds
    """

    scores: np.ndarray
    reference: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """Change in log-odds per substitution, shape (N, L, 4); zero at the wild-type base."""
        return self.scores - self.reference[:, None, None]

    @property
    def mean_drop(self) -> np.ndarray:
        """Mean fall in log-odds over the three substitutions at each position, shape (N, L)."""
        return -self.delta.sum(axis=2) / 3.0

    @property
    def max_drop(self) -> np.ndarray:
        """Largest fall in log-odds over the three substitutions at each position, shape (N, L)."""
        return -self.delta.min(axis=2)


def _log_odds(model: MednaDFM, sequences: list[str]) -> np.ndarray:
    logits = model.run(model.tokenize(sequences)).logits.float()
    return (logits[:, 1] - logits[:, 0]).cpu().numpy()


def log_odds(model: MednaDFM, sequences: Sequence[str], batch_size: int = 512) -> np.ndarray:
    """Log-odds of P(modified) for each window, ``batch_size`` windows per forward pass, shape (N,)."""
    sequences = list(sequences)
    model.eval()
    with torch.inference_mode():
        parts = [_log_odds(model, sequences[s:s + batch_size]) for s in range(0, len(sequences), batch_size)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)


def ism(model: MednaDFM, sequences: Sequence[str], batch_size: int = 512) -> IsmResult:
    """Score all 3 L substitutions of each window, ``batch_size`` variants per forward pass.

    Parameters
    ----------
    sequences : N windows of length L (A/C/G/T)

    Returns
    -------
    IsmResult : ``scores`` (N, L, 4) and ``reference`` (N,)
    """
    sequences = list(sequences)
    length = len(sequences[0])
    model.eval()
    variants, where = [], []
    for i, sequence in enumerate(sequences):
        for position in range(length):
            for b, base in enumerate(BASES):
                if base != sequence[position]:
                    variants.append(sequence[:position] + base + sequence[position + 1:])
                    where.append((i, position, b))
    scores = np.empty((len(sequences), length, 4), dtype=np.float32)
    reference = log_odds(model, sequences, batch_size)
    values = log_odds(model, variants, batch_size)
    for i, sequence in enumerate(sequences):
        scores[i, np.arange(length), [BASES.index(c) for c in sequence]] = reference[i]
    index = np.asarray(where, dtype=np.int64).reshape(-1, 3)
    scores[index[:, 0], index[:, 1], index[:, 2]] = values
    return IsmResult(scores, reference.astype(np.float32))


def ism_one_at_a_time(model: MednaDFM, sequences: Sequence[str]) -> IsmResult:
    """The reference: each variant in its own forward pass (for tests and the speed benchmark)."""
    sequences = list(sequences)
    length = len(sequences[0])
    model.eval()
    scores = np.empty((len(sequences), length, 4), dtype=np.float32)
    reference = np.empty(len(sequences), dtype=np.float32)
    with torch.inference_mode():
        for i, sequence in enumerate(sequences):
            reference[i] = _log_odds(model, [sequence])[0]
            for position in range(length):
                for b, base in enumerate(BASES):
                    variant = sequence[:position] + base + sequence[position + 1:]
                    scores[i, position, b] = reference[i] if base == sequence[position] \
                        else _log_odds(model, [variant])[0]
    return IsmResult(scores, reference)
