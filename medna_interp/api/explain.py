"""CAD and CWGA on in-memory windows, as :class:`Explanation` objects that save into a run directory."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.io import SequenceSet
from ..interpret.cad import CadResult, cad as _cad, write_cad
from ..interpret.cwga import CwgaResult, cwga as _cwga, write_cwga
from ..interpret.selection import Selection, select_confident
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba
from ..runs.checks import check_cad_options, check_cwga_options
from .windows import windows


@dataclass(frozen=True)
class ViewResult:
    """One view's explanation.

    Attributes
    ----------
    method : ``cad`` or ``cwga``
    view : ``kmer`` or ``bpe``
    tokens : DataFrame, one row per token, sorted by its score (``cad`` or ``scaled_contribution``)
    per_base : np.ndarray, shape (M, L): each explained window's per-nucleotide score
    """

    method: str
    view: str
    tokens: pd.DataFrame
    per_base: np.ndarray


@dataclass(frozen=True)
class Explanation:
    """CAD or CWGA of a set of windows.

    Attributes
    ----------
    method : ``cad`` or ``cwga``
    views : view -> :class:`ViewResult`
    selection : the explained windows (high-confidence ones unless selection was off)
    data : every window given
    result : the full :class:`CadResult` or :class:`CwgaResult`
    options : the options used
    """

    method: str
    views: dict[str, ViewResult]
    selection: Selection
    data: SequenceSet
    result: CadResult | CwgaResult
    options: dict = field(default_factory=dict)

    def __getitem__(self, view: str) -> ViewResult:
        if view not in self.views:
            raise KeyError(f"no {view!r} view in this {self.method.upper()} result; views: {', '.join(self.views)}")
        return self.views[view]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the result as a run directory's files (what ``discover`` and the CLI read)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.method == "cad":
            self.selection.write(directory / "selection.tsv")
            write_cad(self.result, directory)
        else:
            self.selection.write(directory / "cwga_selection.tsv")
            write_cwga(self.result, directory, self.selection.data.ids, self.selection.labels)
        return directory


def _everything(data: SequenceSet, model: MednaDFM, batch_size: int) -> Selection:
    """All given windows as the 'selection' (when the caller chose them already)."""
    from ..core.metrics import binary_metrics

    p = predict_proba(model, data.sequences, batch_size)
    labels = data.labels
    order = np.concatenate([np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)])
    true_class_p = np.where(labels == 1, p, 1 - p)
    correct = int(((p > 0.5) == (labels == 1)).sum())
    return Selection(data.subset(order), true_class_p[order], p[order], order, len(data), correct,
                     binary_metrics(labels, p).to_dict())


def cad(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, views: Sequence[str] = ("kmer", "bpe"),
        confidence: float = 0.9, select: bool = True, max_per_class: int | None = None, layer: int = -1,
        heads: Sequence[int] | None = None, min_samples: int = 3, per_sequence_mean: bool = False,
        batch_size: int = 64) -> Explanation:
    """Contrastive attention Cohen's d of each token (method.md section 4).

    Parameters
    ----------
    sequences, labels : N windows and their 0/1 labels
    select : explain only the correctly classified windows above ``confidence`` (the
        method's contrast); ``False`` explains every window given
    views, layer, heads, min_samples, per_sequence_mean : as ``medna-interp cad``

    Returns
    -------
    Explanation : ``result[view].tokens`` (token, cad, p_value, q_value, ...) and
        ``result[view].per_base``, shape (M, L)
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    check_cad_options(model, views, layer, heads, min_samples, confidence, max_per_class)
    selection = select_confident(model, data, confidence, max_per_class, batch_size=batch_size) if select \
        else _everything(data, model, batch_size)
    result = _cad(model, selection.data.sequences, selection.labels, views=views, layer=layer, heads=heads,
                  min_samples=min_samples, per_sequence_mean=per_sequence_mean, batch_size=batch_size)
    per_view = {view: ViewResult("cad", view, result.tokens[view], result.positional[view].per_base)
                for view in result.tokens}
    return Explanation("cad", per_view, selection, data, result, dict(result.options, confidence=confidence,
                                                                       select=select))


def cwga(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, views: Sequence[str] = ("kmer", "bpe"),
         top_dims: int = 40, n_samples: int = 100, confidence: float = 0.9, select: bool = True,
         dim_score: str = "activation", baseline: str | None = None, steps: int = 50, internal_batch_size: int = 128,
         min_count: int = 3, batch_size: int = 64, progress: bool = False) -> Explanation:
    """Contrastive weighted gradient attribution (Integrated Gradients over the top ``top_dims`` of h_mod).

    Parameters
    ----------
    sequences, labels : N windows and their 0/1 labels
    select : explain the ``n_samples`` most confident correct windows per class;
        ``False`` explains every window given
    top_dims, dim_score, baseline, steps, min_count : as ``medna-interp cwga``

    Returns
    -------
    Explanation : ``result[view].tokens`` (token, counts, contributions) and
        ``result[view].per_base``, shape (M, L), per-nucleotide attributions
    """
    data = windows(sequences, labels, need_both_classes=True, least_per_class=2, model=model)
    check_cwga_options(model, views, top_dims, n_samples, confidence, steps, internal_batch_size, min_count)
    selection = select_confident(model, data, confidence, n_samples, min_per_class=2, batch_size=batch_size) \
        if select else _everything(data, model, batch_size)
    result = _cwga(model, selection.data.sequences, selection.labels, views=views, top_dims=top_dims,
                   dim_score=dim_score, baseline=baseline, steps=steps, internal_batch_size=internal_batch_size,
                   batch_size=batch_size, min_count=min_count, progress=progress)
    per_view = {view: ViewResult("cwga", view, result.tokens[view], result.attributions[view].per_base)
                for view in result.tokens}
    return Explanation("cwga", per_view, selection, data, result, dict(result.options, confidence=confidence,
                                                                        select=select))
