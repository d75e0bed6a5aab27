"""The linear baseline as a motif source: its per-base weights and the windows it is sure of,
each window judged by a model fitted without it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from ..core.sequence import BASES
from ..data.io import SequenceSet
from ..training.baseline import fit_linear, linear_importance, per_base_contributions


def write_linear_source(data: SequenceSet, folder: str | os.PathLike, seed: int = 0,
                        confidence: float = 0.9) -> dict:
    """Fit the linear baseline on ``data``, cross-fitted, and write it as a motif source in ``folder``.

    The windows are split in two halves (stratified, seeded); each half is scored, selected
    and attributed by a model fitted on the other half, so no window is chosen by a model
    that saw its label. A model fitted and applied to the same windows picks those whose
    noise it learnt, and under permuted labels the selected classes then still differ.

    Files (read by :func:`medna_interp.motifs.export.export` as source ``linear``, view
    ``bases``): ``linear_weights.tsv`` (position, base, weight: :func:`linear_importance`,
    the mean of the two halves' models), ``linear_selection.tsv`` (the windows classified
    correctly with probability above ``confidence``) and ``linear_attributions.npz``
    (``bases_per_base``, shape (M, L)).

    Returns
    -------
    dict : each half's model's validation metrics and the selection counts
    """
    from ..interpret.selection import select_confident
    from ..data.splits import stratified_split

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    halves = _halves(data.require_labels(), seed)
    probabilities = np.empty(len(data))
    contributions = np.empty((len(data), len(data.sequences[0])))
    weights, metrics = [], []
    for held, fitted_on in ((halves[0], halves[1]), (halves[1], halves[0])):
        model, half_metrics = fit_linear(*stratified_split(data.subset(fitted_on), 0.1, seed))
        held_sequences = [data.sequences[i] for i in held]
        probabilities[held] = model.predict_proba(held_sequences)
        contributions[held] = per_base_contributions(model, held_sequences)
        weights.append(linear_importance(model))
        metrics.append(half_metrics)
    weights = np.mean(weights, axis=0)
    with open(folder / "linear_weights.tsv", "w") as handle:
        handle.write("position\tbase\tweight\n")
        handle.writelines(f"{i + 1}\t{b}\t{weights[i, j]:.6g}\n" for i in range(len(weights))
                          for j, b in enumerate(BASES))
    try:
        selection = select_confident(None, data, confidence, probabilities=probabilities)
    except MednaError:  # a weak baseline: every correctly classified window, however unsure
        selection = select_confident(None, data, 0.0, probabilities=probabilities)
    selection.write(folder / "linear_selection.tsv")
    np.savez_compressed(folder / "linear_attributions.npz", bases_per_base=contributions[selection.source_index])
    return {"validation": metrics, "selection": selection.counts, "importance": weights}


def _halves(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two stratified halves of the rows, as sorted indices."""
    rng = np.random.default_rng(seed)
    first = np.concatenate([rng.permutation(np.flatnonzero(labels == value))[: (labels == value).sum() // 2]
                            for value in (0, 1)])
    mask = np.zeros(len(labels), dtype=bool)
    mask[first] = True
    return np.flatnonzero(mask), np.flatnonzero(~mask)
