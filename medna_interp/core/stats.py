"""Effect sizes and tests shared by CAD and CWGA, vectorised over many groups, plain and
stratified by window composition."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

# pandas and scipy are imported where they are used: the command line reads MIN_SELECTED from
# here, and importing both would cost it over a second before it parses a single option.

#: Windows per class below which selection relaxes (``min_selected``) and the report warns:
#: Cohen's d over two groups of n has a standard error of about sqrt(2 / n), 0.32 at n = 20,
#: the fewest at which a large effect (d >= 0.8) stands 2.5 standard errors clear of zero.
MIN_SELECTED = 20


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
    from scipy import stats

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
    import pandas as pd

    frame = pd.DataFrame({
        "window": np.repeat(np.arange(len(tokens)), [len(t) for t in tokens]),
        "token": [t for row in tokens for t in row],
        "score": np.concatenate(scores) if scores else np.empty(0),
    })
    frame["label"] = np.asarray(labels)[frame["window"].to_numpy()]
    return frame


def stratified_statistics(frame: pd.DataFrame, strata: np.ndarray, min_samples: int = 2,
                          standardized: bool = True, absent_as_zero: bool = False) -> pd.DataFrame:
    """Positives-vs-negatives contrast of each token within strata of windows: the adjusted
    effect size and its test.

    ``estimate``: within stratum s a token gives either Cohen's d (``standardized``) with its
    large-sample variance (n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2)) (Hedges & Olkin), or the raw
    mean difference with its Welch variance s1^2/n1 + s2^2/n2; the strata are combined by inverse
    variance (fixed effect), with its ``se``. ``p``: a Welch t-test in each stratum (its exact
    small-sample p; d's variance assumes equal spreads, and a normal approximation would flatter
    strata that hold a token a few times), turned into a signed z and combined by Stouffer's
    method with weights sqrt(n1 n2 / (n1 + n2)): the stratified form of the unadjusted Welch test.

    Strata where the token has fewer than ``min_samples`` (at least 2) occurrences in a class
    are left out; with ``absent_as_zero`` (the raw difference only) a class without the token in a
    stratum counts as mean 0 with no variance, CWGA's convention: the token adds no attribution
    there (the other class's mean is then tested against 0).

    Parameters
    ----------
    frame : token occurrences with columns ``window`` (index into ``strata``), ``token``,
        ``score`` and ``label`` (:func:`token_occurrences`)
    strata : np.ndarray of int, shape (N windows,)

    Returns
    -------
    DataFrame indexed by token: ``estimate``, ``se``, ``p`` and ``strata_used`` (NaN where no
    stratum qualifies)
    """
    import pandas as pd
    from scipy import stats

    if absent_as_zero and standardized:
        raise ValueError("absent_as_zero applies to the raw difference only")
    frame = frame.assign(stratum=np.asarray(strata)[frame["window"].to_numpy()])
    grouped = frame.groupby(["token", "stratum", "label"])["score"].agg(["mean", "var", "count"]).unstack("label")
    grouped = grouped.reindex(columns=pd.MultiIndex.from_product([["mean", "var", "count"], [0, 1]]))
    n_pos, n_neg = grouped[("count", 1)].fillna(0).to_numpy(), grouped[("count", 0)].fillna(0).to_numpy()
    least = max(min_samples, 2)
    usable = (n_pos >= least) & (n_neg >= least)
    if absent_as_zero:
        usable |= ((n_pos >= least) & (n_neg == 0)) | ((n_neg >= least) & (n_pos == 0))
    # an absent class: mean 0, no variance (only reachable with absent_as_zero)
    mean_pos, mean_neg = (np.where(n > 0, grouped[("mean", c)].to_numpy(), 0.0) for n, c in ((n_pos, 1), (n_neg, 0)))
    var_pos, var_neg = (np.where(n > 0, grouped[("var", c)].to_numpy(), 0.0) for n, c in ((n_pos, 1), (n_neg, 0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        part_pos = np.where(n_pos > 0, var_pos / n_pos, 0.0)
        part_neg = np.where(n_neg > 0, var_neg / n_neg, 0.0)
        difference, spread = mean_pos - mean_neg, part_pos + part_neg  # spread: Welch's variance of the difference
        if standardized:
            effect = cohens_d(mean_pos, mean_neg, var_pos, var_neg, n_pos, n_neg)
            variance = (n_pos + n_neg) / (n_pos * n_neg) + effect ** 2 / (2 * (n_pos + n_neg))
        else:
            effect, variance = difference, spread
        weighted = usable & np.isfinite(effect) & np.isfinite(variance) & (variance > 0)
        weight = np.where(weighted, 1.0 / np.where(weighted, variance, 1.0), 0.0)
        # Welch per stratum, then Stouffer
        dof = spread ** 2 / (np.where(n_pos > 1, part_pos ** 2 / (n_pos - 1), 0.0)
                             + np.where(n_neg > 1, part_neg ** 2 / (n_neg - 1), 0.0))
        p = np.where(spread > 0, 2 * stats.t.sf(np.abs(difference) / np.sqrt(spread), dof),
                     np.where(difference == 0, 1.0, 0.0))
        z = np.sign(difference) * stats.norm.isf(np.clip(np.nan_to_num(p, nan=1.0), 1e-300, 1.0) / 2)
        stouffer = np.where(usable, np.sqrt(np.maximum(n_pos, 1) * np.maximum(n_neg, 1)
                                            / (np.maximum(n_pos, 1) + np.maximum(n_neg, 1))), 0.0)
    parts = pd.DataFrame({"token": grouped.index.get_level_values("token"), "weight": weight,
                          "weighted": np.where(weighted, effect, 0.0) * weight, "used": weighted.astype(int),
                          "wz": np.where(usable, stouffer * z, 0.0), "w2": stouffer ** 2})
    combined = parts.groupby("token", sort=False)[["weight", "weighted", "used", "wz", "w2"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.where(combined.weight > 0, combined.weighted / combined.weight, np.nan)
        se = np.where(combined.weight > 0, 1.0 / np.sqrt(combined.weight), np.nan)
        total = np.where(combined.w2 > 0, combined.wz / np.sqrt(combined.w2), np.nan)
    return pd.DataFrame({"estimate": estimate, "se": se,
                         "p": np.where(np.isfinite(total), 2 * stats.norm.sf(np.abs(total)), np.nan),
                         "strata_used": combined.used.to_numpy()}, index=combined.index)


def adjusted_q(p: np.ndarray) -> np.ndarray:
    """BH q over the finite p-values; NaN stays NaN."""
    p = np.asarray(p, float)
    q = np.full(len(p), np.nan)
    finite = np.isfinite(p)
    q[finite] = benjamini_hochberg(p[finite])
    return q
