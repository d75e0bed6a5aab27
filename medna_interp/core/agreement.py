"""How far two explanations of the same windows agree: the evidence a change of
numerics (bf16 against fp32) must give before it may be used for explaining."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def cad_agreement(a: pd.DataFrame, b: pd.DataFrame, min_count: int = 10, alpha: float = 0.05) -> dict:
    """Agreement of two CAD token tables (columns token, n_pos, n_neg, cad, q_value).

    Returns
    -------
    dict : ``spearman`` of ``cad`` over the tokens seen at least ``min_count`` times in
        each class in both tables, ``n_tokens`` compared, and the ``jaccard`` index of the
        token sets with q at most ``alpha`` (1.0 when both are empty), with their sizes.
    """
    merged = a.merge(b, on="token", suffixes=("_a", "_b"))
    common = merged[(merged[["n_pos_a", "n_neg_a", "n_pos_b", "n_neg_b"]] >= min_count).all(axis=1)]
    significant_a = set(a.token[a.q_value <= alpha])
    significant_b = set(b.token[b.q_value <= alpha])
    union = significant_a | significant_b
    return {"spearman": float(spearmanr(common.cad_a, common.cad_b).statistic) if len(common) > 2 else float("nan"),
            "n_tokens": int(len(common)),
            "jaccard": len(significant_a & significant_b) / len(union) if union else 1.0,
            "n_significant": [len(significant_a), len(significant_b)]}


def attribution_agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """Per-window Spearman of two per-base attribution maps of shape (M, L).

    Returns
    -------
    dict : ``median_spearman`` and ``min_spearman`` over the M windows (windows constant
        in either map are left out), and ``n_windows`` compared
    """
    rows = [spearmanr(x, y).statistic for x, y in zip(a, b) if np.ptp(x) > 0 and np.ptp(y) > 0]
    return {"median_spearman": float(np.median(rows)) if rows else float("nan"),
            "min_spearman": float(np.min(rows)) if rows else float("nan"), "n_windows": len(rows)}
