"""The linear baseline as a motif source: its per-base weights and the windows it is sure of."""

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
    """Fit the linear baseline on ``data`` and write it as a motif source in ``folder``.

    Files (read by :func:`medna_interp.motifs.export.export` as source ``linear``, view
    ``bases``): ``linear_weights.tsv`` (position, base, weight: :func:`linear_importance`),
    ``linear_selection.tsv`` (the windows it classifies correctly with probability above
    ``confidence``) and ``linear_attributions.npz`` (``bases_per_base``, shape (M, L)).

    Returns
    -------
    dict : validation metrics of the fitted baseline and the selection counts
    """
    from ..interpret.selection import select_confident
    from ..data.splits import stratified_split

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train_part, valid_part = stratified_split(data, 0.1, seed)
    model, metrics = fit_linear(train_part, valid_part)
    weights = linear_importance(model)
    with open(folder / "linear_weights.tsv", "w") as handle:
        handle.write("position\tbase\tweight\n")
        handle.writelines(f"{i + 1}\t{b}\t{weights[i, j]:.6g}\n" for i in range(len(weights))
                          for j, b in enumerate(BASES))
    probabilities = model.predict_proba(data.sequences)
    try:
        selection = select_confident(None, data, confidence, probabilities=probabilities)
    except MednaError:  # a weak baseline: every correctly classified window, however unsure
        selection = select_confident(None, data, 0.0, probabilities=probabilities)
    selection.write(folder / "linear_selection.tsv")
    np.savez_compressed(folder / "linear_attributions.npz",
                        bases_per_base=per_base_contributions(model, selection.data.sequences))
    return {"validation": metrics, "selection": selection.counts, "c": model.c, "importance": weights}
