"""DNA sequence helpers: the base alphabet, one-hot codes, IUPAC patterns, reverse complements."""

from __future__ import annotations

import numpy as np

from .errors import MednaError

BASES = "ACGT"


def one_hot(sequences: list[str]) -> np.ndarray:
    """Shape (N, L, 4), float32."""
    index = np.frombuffer("".join(sequences).encode(), dtype=np.uint8)
    table = np.full(256, -1, dtype=np.int64)
    for i, base in enumerate(BASES):
        table[ord(base)] = i
    codes = table[index].reshape(len(sequences), -1)
    return np.eye(4, dtype=np.float32)[codes]


IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
         "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}


def iupac_pattern(text: str, shown: str | None = None) -> str:
    """``text`` upper-cased after checking it is a non-empty run of IUPAC letters (``shown``
    is what the error quotes, default ``text``)."""
    pattern = text.strip().upper()
    bad = next((c for c in pattern if c not in IUPAC), None)
    if not pattern or bad is not None:
        raise MednaError(f"motif {shown if shown is not None else text!r}: "
                         f"{'empty' if not pattern else f'{bad!r} is not an IUPAC letter'} (use {''.join(IUPAC)})")
    return pattern


def base_fractions(sequences: list[str]) -> dict[str, float]:
    """Fraction of A, C, G, T over all windows."""
    joined = "".join(sequences)
    return {base: joined.count(base) / max(len(joined), 1) for base in "ACGT"}


_COMPLEMENT = str.maketrans("ACGTacgt", "TGCAtgca")


def reverse_complement(sequence: str) -> str:
    """The other strand, read 5' to 3' (bases other than ACGT kept as they are)."""
    return sequence.translate(_COMPLEMENT)[::-1]
