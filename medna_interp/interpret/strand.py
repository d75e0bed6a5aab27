"""Strand consistency: does the model, and each explanation of it, read the reverse-complement
window as the same DNA?

Each window's reverse complement is predicted and explained again, and the per-base scores
are mapped back to forward coordinates (RC position L - 1 - i is forward position i). For a
strand-symmetric mark (5mC/5hmC at CpG) both strands carry the signal and a trustworthy model
agrees with itself; windows oriented on a modified A or C (6mA, 4mC) need not, and the figure
is then a description of the model, not a test.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd

from ..core.sequence import reverse_complement
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba

COLUMNS = ["method", "windows", "mean_r", "median_r", "mean_r_negatives", "prediction_agreement", "probability_r"]
#: a model is called strand-consistent, and STREME's --strands both suggested, when the
#: prediction agreement and every judged method's mean r over the positives reach these
CONSISTENT_R = 0.8
CONSISTENT_AGREEMENT = 0.9


def judged(method: str) -> bool:
    """Whether ``method`` takes part in the verdict. A BPE token's attribution is spread over its
    bases, and the reverse strand is segmented into other tokens, so BPE per-base scores differ
    between strands even for a model that reads both alike: they are reported, not judged."""
    return not method.endswith("_bpe")


class StrandCheck(NamedTuple):
    """``table``: one row per method: the mean and median per-window Pearson r between forward
    and mapped-back scores over the positives (whose calls the explanations are about; a
    negative's scores are mostly noise around zero) and the mean over the negatives; the share of
    windows whose predicted class is the same on both strands; Pearson r of the two
    P(modified). ``mapped_back``: method -> (M, L) reverse-strand scores in forward coordinates."""

    table: pd.DataFrame
    mapped_back: dict[str, np.ndarray]

    @property
    def consistent(self) -> bool:
        return is_consistent(self.table.to_dict("records"))


def is_consistent(rows: list[dict]) -> bool:
    """The verdict on rows of a strand table: predictions agree, and every judged method's
    mean r over the positives reaches :data:`CONSISTENT_R`."""
    scored = [row for row in rows if judged(row["method"])]
    return bool(rows) and all(row["prediction_agreement"] >= CONSISTENT_AGREEMENT for row in rows) \
        and bool(scored) and all(row["mean_r"] >= CONSISTENT_R for row in scored)


def strand_consistency(model: MednaDFM, sequences: Sequence[str], labels: np.ndarray, forward: dict[str, np.ndarray],
                       explain: dict[str, Callable[[list[str]], np.ndarray]], batch_size: int = 64) -> StrandCheck:
    """Predict and explain the reverse complement of every window and compare with the forward strand.

    Parameters
    ----------
    sequences : M windows of length L; labels : (M,) 0/1
    forward : method -> per-base scores of ``sequences``, shape (M, L)
    explain : method -> a function giving the same kind of scores, (K, L), for any K windows

    Returns
    -------
    StrandCheck
    """
    sequences, positives = list(sequences), np.asarray(labels) == 1
    reverse = [reverse_complement(s) for s in sequences]
    forward_p = predict_proba(model, sequences, batch_size)
    reverse_p = predict_proba(model, reverse, batch_size)
    agreement = float(np.mean((forward_p > 0.5) == (reverse_p > 0.5)))
    probability_r = _pearson(forward_p[None], reverse_p[None])[0]
    rows, mapped = [], {}
    for method, function in explain.items():
        mapped[method] = np.asarray(function(reverse))[:, ::-1]
        r = _pearson(np.asarray(forward[method]), mapped[method])
        rows.append({"method": method, "windows": len(sequences), "mean_r": _nanmean(r[positives]),
                     "median_r": float(np.nanmedian(r[positives])) if np.isfinite(r[positives]).any() else np.nan,
                     "mean_r_negatives": _nanmean(r[~positives]), "prediction_agreement": agreement,
                     "probability_r": probability_r})
    return StrandCheck(pd.DataFrame(rows, columns=COLUMNS), mapped)


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Pearson r of two (M, L) arrays; NaN for a constant row."""
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    scale = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, (a * b).sum(1) / scale, np.nan)
