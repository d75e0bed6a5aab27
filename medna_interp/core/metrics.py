"""Binary classification metrics of the paper (threshold 0.5) plus ranking metrics.

Undefined values (Sn without positives, AUC with one class) are ``None`` rather than
NaN, so that degenerate test sets neither crash nor produce invalid JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class BinaryMetrics:
    n: int
    n_pos: int
    acc: float
    sn: float | None
    sp: float | None
    mcc: float
    auc: float | None
    auprc: float | None
    tp: int
    tn: int
    fp: int
    fn: int

    def to_dict(self) -> dict:
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """AUPRC as average precision: sum over thresholds of (recall step) x precision."""
    labels = np.asarray(labels).astype(bool)
    if labels.sum() == 0:
        return None
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    scores_sorted, labels_sorted = np.asarray(scores)[order], labels[order]
    # one threshold per distinct score: the last index of each run of ties
    last = np.r_[np.nonzero(np.diff(scores_sorted))[0], len(scores_sorted) - 1]
    tp = np.cumsum(labels_sorted)[last]
    precision = tp / (last + 1)
    recall = tp / labels.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_points(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC curve points, shape (T, 3): threshold, false positive rate, true positive rate."""
    labels = np.asarray(labels).astype(bool)
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    scores_sorted, labels_sorted = np.asarray(scores)[order], labels[order]
    last = np.r_[np.nonzero(np.diff(scores_sorted))[0], len(scores_sorted) - 1]
    tp = np.cumsum(labels_sorted)[last]
    fp = (last + 1) - tp
    tpr = tp / max(labels.sum(), 1)
    fpr = fp / max((~labels).sum(), 1)
    return np.column_stack([np.r_[np.inf, scores_sorted[last]], np.r_[0.0, fpr], np.r_[0.0, tpr]])


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> BinaryMetrics:
    """ACC, Sn, Sp, MCC at ``threshold`` on P(modified), and AUC, AUPRC."""
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(probabilities) > threshold
    tp = int((predicted & labels).sum())
    tn = int((~predicted & ~labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    denominator = math.sqrt(float(tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    mcc = (tp * tn - fp * fn) / denominator if denominator else 0.0
    return BinaryMetrics(
        n=len(labels), n_pos=int(labels.sum()), acc=(tp + tn) / max(len(labels), 1),
        sn=_ratio(tp, tp + fn), sp=_ratio(tn, tn + fp), mcc=mcc,
        auc=roc_auc(labels, probabilities), auprc=average_precision(labels, probabilities),
        tp=tp, tn=tn, fp=fp, fn=fn,
    )
