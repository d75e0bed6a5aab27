"""Effect sizes and tests shared by CAD and CWGA, vectorised over many groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def cohens_d(mean_pos, mean_neg, var_pos, var_neg, n_pos, n_neg) -> np.ndarray:
    """Cohen's d with the pooled sample SD; zero spread gives 0 (equal means) or +/-inf."""
    mean_pos, mean_neg = np.asarray(mean_pos, float), np.asarray(mean_neg, float)
    n_pos, n_neg = np.asarray(n_pos, float), np.asarray(n_neg, float)
    dof = np.maximum(n_pos + n_neg - 2, 1)
    pooled = np.sqrt(((n_pos - 1) * np.asarray(var_pos) + (n_neg - 1) * np.asarray(var_neg)) / dof)
    difference = mean_pos - mean_neg
    with np.errstate(divide="ignore", invalid="ignore"):
        d = difference / pooled
        degenerate = np.where(difference == 0, 0.0, np.sign(difference) * np.inf)
    return np.where(pooled > 0, d, degenerate)


def welch_p(mean_pos, mean_neg, var_pos, var_neg, n_pos, n_neg) -> np.ndarray:
    """Two-sided Welch t-test p-values; zero spread gives 1 (equal means) or 0."""
    mean_pos, mean_neg = np.asarray(mean_pos, float), np.asarray(mean_neg, float)
    var_pos, var_neg = np.asarray(var_pos, float), np.asarray(var_neg, float)
    n_pos, n_neg = np.asarray(n_pos, float), np.asarray(n_neg, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        _, p = stats.ttest_ind_from_stats(mean_pos, np.sqrt(var_pos), n_pos, mean_neg, np.sqrt(var_neg), n_neg,
                                          equal_var=False)
    degenerate = ~np.isfinite(p)
    return np.where(degenerate, np.where(mean_pos == mean_neg, 1.0, 0.0), p)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg q-values (step-up, monotone, capped at 1), same order as input."""
    p = np.asarray(p_values, float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def contrast_columns(values: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per-column contrast of positives vs negatives for a (N, D) matrix: mean_pos,
    mean_neg, difference, d, p (each of shape (D,))."""
    pos, neg = values[labels == 1], values[labels == 0]
    args = (pos.mean(0), neg.mean(0), pos.var(0, ddof=1), neg.var(0, ddof=1), len(pos), len(neg))
    return {"mean_pos": args[0], "mean_neg": args[1], "difference": args[0] - args[1],
            "d": cohens_d(*args), "p": welch_p(*args)}


def token_occurrences(tokens: list[list[str]], scores: list[np.ndarray], labels: np.ndarray) -> pd.DataFrame:
    """One row per token occurrence: window, token, score, label (of its window)."""
    frame = pd.DataFrame({
        "window": np.repeat(np.arange(len(tokens)), [len(t) for t in tokens]),
        "token": [t for row in tokens for t in row],
        "score": np.concatenate(scores) if scores else np.empty(0),
    })
    frame["label"] = np.asarray(labels)[frame["window"].to_numpy()]
    return frame
