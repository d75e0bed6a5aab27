"""Sequence logos with logomaker, written as PNG and SVG.

- motif logos (information content) for discovered and database motifs, and TF-MoDISco's
  contribution-weight matrices;
- a discovered motif over its best database match, aligned at TOMTOM's offset and strand;
- kpLogo-style positional logos over the 41-bp window: per-position, per-base mean
  CAD/CWGA score (saliency), or positive-vs-negative base enrichment for raw data.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..core.sequence import BASES  # noqa: E402
from .motif import Motif  # noqa: E402
from ..core.figures import save_figure


def logo_stem(name: str) -> str:
    """A file-name-safe stem for a motif id such as ``cad_kmer:1-GAGG`` or ``MA2108.1``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _frame(matrix: np.ndarray, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(matrix, columns=list(BASES), index=np.arange(start, start + len(matrix)))


def information(pwm: np.ndarray) -> pd.DataFrame:
    """Letter heights in bits: probability x (2 - entropy)."""
    import logomaker

    probabilities = np.clip(pwm, 1e-9, None)
    probabilities = probabilities / probabilities.sum(1, keepdims=True)
    return logomaker.transform_matrix(_frame(probabilities), from_type="probability", to_type="information")


def motif_logo(motif: Motif, stem: str | os.PathLike, title: str | None = None) -> list[Path]:
    """Information-content logo of one motif; returns the PNG and SVG paths."""
    import logomaker

    figure, axis = plt.subplots(figsize=(max(2.5, 0.45 * motif.width + 1), 2.0))
    logomaker.Logo(information(motif.pwm), ax=axis, color_scheme="classic")
    axis.set_ylim(0, 2)
    axis.set_ylabel("bits")
    axis.set_title(title or f"{motif.id} {motif.consensus}", fontsize=9)
    return save_figure(figure, Path(stem))


def contribution_logo(motif: Motif, folder: str | os.PathLike) -> list[Path]:
    """A TF-MoDISco motif's contribution weights (``info["cwm"]``, (W, 4)) as a logo, letters
    up or down by sign, as ``folder/<stem>__cwm``."""
    import logomaker

    cwm = motif.info["cwm"]
    figure, axis = plt.subplots(figsize=(max(2.5, 0.45 * len(cwm) + 1), 2.0))
    logomaker.Logo(_frame(cwm, start=1), ax=axis, color_scheme="classic", flip_below=False)
    axis.axhline(0, color="black", lw=0.5)
    axis.set_ylabel("contribution")
    axis.set_title(f"{motif.id}: contribution weights", fontsize=9)
    return save_figure(figure, Path(folder) / f"{logo_stem(motif.id)}__cwm")


def aligned_logo(query: Motif, target: Motif, offset: int, orientation: str, stem: str | os.PathLike,
                 title: str = "") -> list[Path]:
    """The query above the database motif, target reverse-complemented for a '-' match.

    TOMTOM's ``Optimal_offset`` puts query column 0 under column ``offset`` of the
    (oriented) target; checked in the tests with a query cut out of a JASPAR matrix.
    """
    import logomaker

    target_pwm = target.pwm[::-1, ::-1] if orientation == "-" else target.pwm
    query_start = offset
    left = min(0, query_start)
    right = max(len(target_pwm), query_start + query.width)
    figure, axes = plt.subplots(2, 1, figsize=(max(3.0, 0.45 * (right - left) + 1), 3.6), sharex=True)
    logomaker.Logo(information(query.pwm).set_index(np.arange(query_start, query_start + query.width)),
                   ax=axes[0], color_scheme="classic")
    logomaker.Logo(information(target_pwm), ax=axes[1], color_scheme="classic")
    for axis, label in zip(axes, (f"{query.id}", f"{target.id} {target.name} ({orientation})")):
        axis.set_xlim(left - 0.5, right - 0.5)
        axis.set_ylim(0, 2)
        axis.set_ylabel("bits")
        axis.set_title(label, fontsize=8)
    if title:
        figure.suptitle(title, fontsize=9)
    return save_figure(figure, Path(stem))


def saliency_matrix(sequences: list[str], scores: np.ndarray) -> np.ndarray:
    """(length, 4): mean over windows of the per-base score, credited to the base present."""
    one_hot = np.array([[[b == base for base in BASES] for b in s] for s in sequences], dtype=float)
    return np.einsum("nl,nlb->lb", scores, one_hot) / max(len(sequences), 1)


def enrichment_matrix(positives: list[str], negatives: list[str], pseudocount: float = 1.0) -> np.ndarray:
    """(length, 4): f_pos * log2(f_pos / f_neg) per position and base (two-sample logo)."""
    def frequencies(sequences):
        counts = np.array([[[b == base for base in BASES] for b in s] for s in sequences], dtype=float).sum(0)
        return (counts + pseudocount) / (counts.sum(1, keepdims=True) + 4 * pseudocount)

    f_pos, f_neg = frequencies(positives), frequencies(negatives)
    return f_pos * np.log2(f_pos / f_neg)


def positional_logo(matrix: np.ndarray, stem: str | os.PathLike, title: str, ylabel: str = "score") -> list[Path]:
    """A logo over window positions (1-based, centre marked), letters up or down by sign."""
    import logomaker

    length = len(matrix)
    frame = _frame(matrix, start=1)
    figure, axis = plt.subplots(figsize=(max(6.0, 0.22 * length + 1), 2.2))
    with warnings.catch_warnings():
        # an all-zero matrix (nothing differs) is a valid, flat logo; matplotlib warns on its y-range
        warnings.filterwarnings("ignore", message="Attempting to set identical low and high ylims")
        logomaker.Logo(frame, ax=axis, color_scheme="classic", flip_below=False)
    centre = length // 2 + 1
    axis.axvline(centre, color="grey", lw=0.6, ls="--")
    axis.axhline(0, color="black", lw=0.5)
    axis.set_xticks([1, centre, length])
    axis.set_xticklabels([f"-{centre - 1}", "0", f"+{length - centre}"])
    axis.set_ylabel(ylabel)
    axis.set_title(title, fontsize=9)
    return save_figure(figure, Path(stem))
