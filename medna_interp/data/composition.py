"""Base composition of positives against negatives: the confounder every enrichment
statistic inherits.

Methylated windows often differ from unmethylated ones in GC or CpG content (5mC and
5hmC sit at CpGs), so a token or motif can look enriched in positives only because it is
GC-rich. :func:`composition` measures that difference per window feature; :func:`gc_strata`
and :func:`match_controls` are what the adjusted statistics and the matched STREME controls
are built on.

Features per window: ``gc_fraction``; ``cpg_oe``, CpG observed/expected
(count(CG) x L / (count(C) x count(G)), Gardiner-Garden and Frommer), 0 where C or G is
absent; and the frequency of each of the 16 dinucleotides among the window's L - 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..core.errors import MednaError
from ..core.stats import benjamini_hochberg, cohens_d

DINUCLEOTIDES = tuple("".join(pair) for pair in product("ACGT", repeat=2))
FEATURES = ("gc_fraction", "cpg_oe", *(f"freq_{d}" for d in DINUCLEOTIDES))
COLUMNS = ["set", "feature", "mean_pos", "mean_neg", "difference", "effect_d", "p_value", "q_value", "n_pos",
           "n_neg", "material"]
#: |Cohen's d| at which a class difference counts as material: Cohen's "medium" effect. At
#: this size a token whose attention merely tracks GC can reach a CAd of the same order as
#: a motif the model reads, so token and motif statistics need the adjusted columns.
MATERIAL_D = 0.5
#: ... and the BH q below which the difference is more than sampling noise
MATERIAL_Q = 0.01
#: GC quantile bins of the primaries that matched controls reproduce
MATCH_BINS = 5
#: the fewest matched controls worth a STREME run: this many, and a quarter of the primaries
MIN_MATCHED = 20
MIN_MATCHED_FRACTION = 0.25


def window_features(sequences: Sequence[str]) -> pd.DataFrame:
    """Per-window composition features, shape (N, 18): ``gc_fraction``, ``cpg_oe``, ``freq_AA`` ... ``freq_TT``."""
    codes = _codes(sequences)
    length = np.maximum(np.array([len(s) for s in sequences], dtype=float), 1)
    counts = np.stack([(codes == base).sum(1) for base in range(4)], axis=1).astype(float)
    pairs = codes[:, :-1] * 4 + codes[:, 1:]
    valid = (codes[:, :-1] < 4) & (codes[:, 1:] < 4)
    pair_counts = np.stack([((pairs == index) & valid).sum(1) for index in range(16)], axis=1).astype(float)
    expected = counts[:, 1] * counts[:, 2]
    cpg = pair_counts[:, DINUCLEOTIDES.index("CG")]
    frame = pd.DataFrame({
        "gc_fraction": (counts[:, 1] + counts[:, 2]) / length,
        "cpg_oe": np.divide(cpg * length, expected, out=np.zeros(len(codes)), where=expected > 0),
    })
    frequencies = pair_counts / np.maximum(valid.sum(1, keepdims=True), 1)
    for index, pair in enumerate(DINUCLEOTIDES):
        frame[f"freq_{pair}"] = frequencies[:, index]
    return frame


@dataclass
class CompositionReport:
    """Positives against negatives, per feature and window set.

    Attributes
    ----------
    table : one row per (set, feature): class means, difference, Cohen's d, two-sided
        Mann-Whitney p, BH q (within the set), ``material`` (|d| >= MATERIAL_D and q < MATERIAL_Q)
    warnings : one line per set whose GC fraction or CpG o/e differs materially
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def composition(sets: dict[str, tuple[Sequence[str], np.ndarray]]) -> CompositionReport:
    """Compare the composition of positives and negatives in each named window set.

    Parameters
    ----------
    sets : name -> (N windows, labels of shape (N,), 0/1); e.g. ``{"data": ..., "selection": ...}``

    Returns
    -------
    CompositionReport
    """
    rows, warnings = [], []
    for name, (sequences, labels) in sets.items():
        labels = np.asarray(labels)
        features = window_features(sequences)
        pos, neg = features[labels == 1], features[labels == 0]
        if len(pos) < 2 or len(neg) < 2:
            continue
        d = cohens_d(pos.mean(), neg.mean(), pos.var(ddof=1), neg.var(ddof=1), len(pos), len(neg))
        p = np.array([_mann_whitney(pos[f].to_numpy(), neg[f].to_numpy()) for f in FEATURES])
        q = benjamini_hochberg(p)
        material = (np.abs(d) >= MATERIAL_D) & (q < MATERIAL_Q)
        for i, feature in enumerate(FEATURES):
            rows.append({"set": name, "feature": feature, "mean_pos": pos[feature].mean(),
                         "mean_neg": neg[feature].mean(), "difference": pos[feature].mean() - neg[feature].mean(),
                         "effect_d": d[i], "p_value": p[i], "q_value": q[i], "n_pos": len(pos), "n_neg": len(neg),
                         "material": bool(material[i])})
        differing = [f"{feature} (d = {d[i]:+.2f})" for i, feature in enumerate(FEATURES[:2]) if material[i]]
        if differing:
            warnings.append(f"{name}: positives and negatives differ in {' and '.join(differing)}; enrichment of "
                            f"GC- or CpG-rich tokens and motifs may reflect composition: read the GC-adjusted "
                            f"columns and matched controls (material: |d| >= {MATERIAL_D} with q < {MATERIAL_Q})")
    return CompositionReport(pd.DataFrame(rows, columns=COLUMNS), warnings)


def gc_strata(sequences: Sequence[str], n_strata: int) -> np.ndarray:
    """Stratum of each window by GC fraction, shape (N,), values 0 .. (at most) n_strata - 1.

    Strata are quantile bins of the windows' GC fractions; windows with equal GC always
    share a stratum (41-bp windows take few distinct values), so ties can give fewer strata.
    """
    if n_strata < 1:
        raise MednaError(f"gc_strata must be at least 1, got {n_strata}")
    gc = window_features(sequences)["gc_fraction"].to_numpy()
    edges = np.unique(np.quantile(gc, np.linspace(0, 1, n_strata + 1)[1:-1]))
    return np.searchsorted(edges, gc, side="right")


class Matching(NamedTuple):
    """What :func:`match_controls` drew: ``index`` into the pool, shape (n,), and ``quality``,
    one row per feature matched: primary, pool and matched means and the two-sample
    Kolmogorov-Smirnov statistic of primary against pool and against the matched controls."""

    index: np.ndarray
    quality: pd.DataFrame


def match_controls(primary: Sequence[str], pool: Sequence[str], *, bins: int = MATCH_BINS, cpg: bool = False,
                   seed: int = 0, what: str = "negatives") -> Matching:
    """Draw controls from ``pool``, without replacement, whose GC distribution (and CpG o/e,
    in tertiles, with ``cpg``) is the primaries', bin by bin.

    Bins are quantile bins of the primaries' GC fraction (equal GC shares a bin). Every bin
    gets the primaries' share of the controls, so the number drawn is the largest the
    scarcest bin allows, at most one per primary: negatives are rarely as GC-rich as
    GC-rich positives, and the pool limits how many can match.

    Returns
    -------
    Matching : ``index`` into ``pool`` of shape (n,), n between ``MIN_MATCHED`` (and a quarter
        of the primaries) and ``len(primary)``; ``quality``

    Raises
    ------
    MednaError : fewer can be matched than that, naming the scarcest bin
    """
    primary_features, pool_features = window_features(primary), window_features(pool)
    primary_bins, pool_bins, describe = _joint_bins(primary_features, pool_features, bins, cpg)
    needed = pd.Series(primary_bins).value_counts().sort_index()
    available = pd.Series(pool_bins).value_counts().reindex(needed.index, fill_value=0)
    share = needed / len(primary)
    capacity = available / share
    scarcest = capacity.idxmin()
    n_matched = int(min(len(primary), np.floor(capacity.min())))
    least = max(MIN_MATCHED, int(np.ceil(len(primary) * MIN_MATCHED_FRACTION)))
    if n_matched < least:
        raise MednaError(f"matched controls: the {what} match only {n_matched} controls and at least {least} "
                         f"are needed (a quarter of the {len(primary)} positives, at least {MIN_MATCHED}): "
                         f"{needed[scarcest]} positives ({share[scarcest]:.0%}) lie in {describe(scarcest)}, "
                         f"where only {available[scarcest]} of the {len(pool)} {what} lie",
                         hint="give more negatives, or use --controls negatives or shuffled")
    counts = np.minimum(np.floor(share * n_matched).astype(int), available)
    slack = (available - counts).to_numpy()
    for position in np.argsort(-(share * n_matched - counts).to_numpy(), kind="stable"):
        if counts.sum() >= n_matched:
            break
        if slack[position] > 0:
            counts.iloc[position] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(pool_bins == b), size=int(n), replace=False) for b, n in counts.items() if n]
    index = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, int)
    quality = pd.DataFrame([{
        "feature": f, "n_primary": len(primary), "n_pool": len(pool), "n_matched": len(index),
        "mean_primary": primary_features[f].mean(), "mean_pool": pool_features[f].mean(),
        "mean_matched": pool_features[f].iloc[index].mean(),
        "ks_before": stats.ks_2samp(primary_features[f], pool_features[f]).statistic,
        "ks_after": stats.ks_2samp(primary_features[f], pool_features[f].iloc[index]).statistic,
    } for f in ("gc_fraction", "cpg_oe")])
    return Matching(index, quality)


def _joint_bins(primary: pd.DataFrame, pool: pd.DataFrame, bins: int, cpg: bool):
    """Bin ids of primaries and pool on the primaries' quantile edges, and a describer of a bin id."""
    def edges(values: np.ndarray, n: int) -> np.ndarray:
        return np.unique(np.quantile(values, np.linspace(0, 1, n + 1)[1:-1]))

    gc_edges = edges(primary.gc_fraction.to_numpy(), bins)
    cpg_edges = edges(primary.cpg_oe.to_numpy(), 3) if cpg else np.zeros(0)
    width = len(cpg_edges) + 1

    def assign(frame: pd.DataFrame) -> np.ndarray:
        gc = np.searchsorted(gc_edges, frame.gc_fraction.to_numpy(), side="right")
        return gc * width + (np.searchsorted(cpg_edges, frame.cpg_oe.to_numpy(), side="right") if cpg else 0)

    def describe(bin_id: int) -> str:
        gc, cg = divmod(int(bin_id), width)
        bounds = [-np.inf, *gc_edges, np.inf]
        text = f"GC {_interval(bounds[gc], bounds[gc + 1])}"
        if cpg:
            cpg_bounds = [-np.inf, *cpg_edges, np.inf]
            text += f", CpG o/e {_interval(cpg_bounds[cg], cpg_bounds[cg + 1])}"
        return text

    return assign(primary), assign(pool), describe


def _interval(low: float, high: float) -> str:
    if np.isinf(low):
        return f"< {high:.3g}"
    if np.isinf(high):
        return f">= {low:.3g}"
    return f"[{low:.3g}, {high:.3g})"


def _mann_whitney(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def _codes(sequences: Sequence[str]) -> np.ndarray:
    """(N, L) uint8 codes, A C G T = 0 1 2 3, anything else 4; windows of unequal length padded with 4."""
    length = max((len(s) for s in sequences), default=0)
    table = np.full(256, 4, dtype=np.uint8)
    for code, base in enumerate("ACGT"):
        table[ord(base)] = table[ord(base.lower())] = code
    codes = np.full((len(sequences), length), 4, dtype=np.uint8)
    for i, sequence in enumerate(sequences):
        codes[i, : len(sequence)] = table[np.frombuffer(sequence.encode("ascii", "replace"), dtype=np.uint8)]
    return codes
