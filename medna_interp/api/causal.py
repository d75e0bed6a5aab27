"""Causal checks and representations on in-memory windows: mutate, insert, pairs, variant effects, embed."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ..core.errors import MednaError
from ..interpret.embed import STAGES, embed as embed_windows
from ..models.medna_dfm import MednaDFM
from .windows import windows


def mutate(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], motifs: Sequence[str], *,
           flank: int = 3, bootstrap: int = 1000, seed: int = 0, batch_size: int = 64):
    """Mutate motifs in the positives and score every group (see :mod:`medna_interp.causal.mutagenesis`).

    Parameters
    ----------
    motifs : IUPAC motifs, ``GAGG=CTCC`` for an explicit replacement, ``GAGG`` for a
        composition-preserving shuffle of the site and its flanks

    Returns
    -------
    MutagenesisResult : ``table`` (one row per group: SN, SP, ACC, MCC, AUC, AUPRC, changes
        with bootstrap intervals, Wilcoxon p) and the mutated ``windows`` of each group
    """
    from ..causal.mutagenesis import MotifEdit, mutagenesis

    data = windows(sequences, labels, need_both_classes=True, model=model)
    return mutagenesis(model, data, [MotifEdit.parse(m) for m in motifs], flank=flank, bootstrap=bootstrap,
                       seed=seed, batch_size=batch_size)


def embed(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, stages: Sequence[str] | None = None,
          max_windows: int = 2000, n_neighbors: int = 15, min_dist: float = 0.1, color_by: str | None = None,
          seed: int = 0, batch_size: int = 64):
    """Features of the four processing stages, their UMAPs and separability numbers (see
    :mod:`medna_interp.interpret.embed`); ``color_by`` is an IUPAC string here (a run's motif names
    need ``medna-interp embed ... -o RUN``).

    Returns
    -------
    Embedding : ``ids``, ``labels``, ``features`` and ``coordinates`` per stage, ``numbers``
        (one row per stage), ``carriers`` of ``color_by``; draw it with
        :func:`medna_interp.interpret.embed.plot_embedding`
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    return embed_windows(model, data, stages=stages or STAGES, max_windows=max_windows, n_neighbors=n_neighbors,
                         min_dist=min_dist, color_by=color_by, seed=seed, batch_size=batch_size)


def insert(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int] | None, motifs: Sequence[str], *,
           background: str = "both", n_backgrounds: int = 200, strand: str = "both",
           offsets: tuple[int, int] | None = None, bootstrap: int = 1000, seed: int = 0, batch_size: int = 512):
    """Place each motif at every start and strand in background windows and score the change
    (see :mod:`medna_interp.causal.insertion`).

    Parameters
    ----------
    sequences, labels : N windows of length L the backgrounds come from; negatives
        (label 0) are used as they are, any window is dinucleotide-shuffled (labels may be
        None with ``background="shuffled"``)
    motifs : IUPAC motifs, e.g. ``["GAGG", "AAAAA"]``
    background : ``shuffled``, ``negatives`` or ``both``
    offsets : (first, last) 0-based starts; default every start 0 .. L - W

    Returns
    -------
    InsertionResult : ``table`` with one row per motif (and control k-mer), strand, start
        and background: ``n`` backgrounds scored, ``skipped`` (placements that would change
        the centre base), ``mean_delta_p`` with its bootstrap 95 % interval
        (``ci_low``, ``ci_high``) and ``mean_delta_logit``; ``summary`` gives each motif's
        best start per background with the control k-mer placed there
    """
    from ..causal.insertion import Placeable, insert as _insert

    data = windows(sequences, labels, model=model)
    return _insert(model, data, [Placeable.parse(m) for m in motifs], background=background,
                   n_backgrounds=n_backgrounds, strand=strand, offsets=offsets, bootstrap=bootstrap, seed=seed,
                   batch_size=batch_size)


def pairs(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int] | None, pair: tuple[str, str], *,
          background: str = "both", n_backgrounds: int = 200, bootstrap: int = 1000, seed: int = 0,
          batch_size: int = 512) -> pd.DataFrame:
    """Pair grammar: motif A at its best start, motif B swept over every start that does not
    overlap it, on A's strand (``same``) and the other (``opposite``).

    Parameters
    ----------
    pair : (A, B) IUPAC motifs, e.g. ``("GAGG", "AAAAA")``

    Returns
    -------
    DataFrame : one row per B start, orientation and background: ``mean_delta_p`` of A + B
        against the background with its 95 % interval, and ``interaction`` = (AB - bg) -
        (A - bg) - (B - bg) with ``interaction_low``/``interaction_high``; positive means
        the model wants both together
    """
    from ..causal.insertion import Placeable, insert as _insert

    data = windows(sequences, labels, model=model)
    a, b = (Placeable.parse(m).name for m in pair)
    motifs = [Placeable.parse(m) for m in dict.fromkeys((a, b))]
    result = _insert(model, data, motifs, pairs=[(a, b)], background=background, n_backgrounds=n_backgrounds,
                     bootstrap=bootstrap, seed=seed, batch_size=batch_size)
    return result.pairs


def variant_effects(model: MednaDFM, sequences: Sequence[str], positions: Sequence[int], alts: Sequence[str], *,
                    ids: Sequence[str] | None = None, batch_size: int = 512) -> pd.DataFrame:
    """Single-base variants scored and ranked among all 3 L changes of their window.

    Parameters
    ----------
    sequences : V windows (one per variant; repeats are scored once)
    positions : V 1-based positions
    alts : V alternative bases (A/C/G/T, not the window's base)

    Returns
    -------
    DataFrame : one row per variant: ``p_ref``, ``p_alt``, ``delta_p``, ``delta_logit``,
        ``rank_by_drop`` (1 = the change that lowers the log-odds most), ``n_changes``
        (3 L) and ``rank_fraction``
    """
    from ..causal.variants import Variant, variant_effects as _variant_effects

    data = windows(sequences, model=model)
    if not len(data.sequences) == len(positions) == len(alts):
        raise MednaError(f"{len(data.sequences)} windows, {len(positions)} positions and {len(alts)} alternative "
                         "bases: give one of each per variant")
    variants = []
    for i, (sequence, position, alt) in enumerate(zip(data.sequences, positions, alts)):
        alt = str(alt).upper()
        if not 1 <= int(position) <= len(sequence):
            raise MednaError(f"variant {i}: position {position} is outside the {len(sequence)}-base window (1-based)")
        if alt not in "ACGT" or len(alt) != 1 or alt == sequence[int(position) - 1]:
            raise MednaError(f"variant {i}: alt {alt!r} must be A, C, G or T and differ from the window's "
                             f"{sequence[int(position) - 1]}")
        variants.append(Variant(str(ids[i]) if ids is not None else str(i), sequence, int(position),
                                sequence[int(position) - 1], alt))
    return _variant_effects(model, variants, batch_size)
