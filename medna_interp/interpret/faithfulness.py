"""Which per-base explanation is the most faithful? Deletion curves and planted-site recovery.

For each method's per-base scores (CAD and CWGA per view, ISM, and a random ranking as
the floor) the top-k ranked bases of each positive are replaced, k growing to half the
window, and the mean P(modified) is recorded. A replaced base is swapped with a base of
another letter taken from the lowest-ranked positions, so each window keeps its exact
composition and only what the ranking called important moves. The area under the curve
(mean P(modified) over k / k_max) is lower for a more faithful ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.metrics import average_precision, roc_auc
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba

RANDOM = "random"


def delete_top(sequence: str, scores: np.ndarray, k: int) -> str:
    """``sequence`` with its ``k`` highest-scoring bases swapped for bases of another letter
    from its lowest-scoring positions (composition kept exactly). The centre base, the
    candidate site itself, is never moved: a window whose centre changed is no longer a
    candidate of the model's kind, and its score would say nothing about the ranking."""
    letters = list(sequence)
    centre = len(sequence) // 2
    order = np.array([p for p in np.argsort(-scores, kind="stable") if p != centre])
    top, pool = list(order[:k]), [int(p) for p in order[::-1] if p not in set(order[:k].tolist())]
    for position in top:
        swap = next((p for p in pool if letters[p] != letters[position]), None)
        if swap is None:
            continue
        pool.remove(swap)
        letters[position], letters[swap] = letters[swap], letters[position]
    return "".join(letters)


@dataclass(frozen=True)
class Faithfulness:
    """``table``: per method, deletion area (lower is more faithful) and, with a truth,
    planted-site AUROC/AUPRC; ``curves``: method, k, mean P(modified)."""

    table: pd.DataFrame
    curves: pd.DataFrame


def faithfulness(model: MednaDFM, sequences: list[str], scores: dict[str, np.ndarray], *,
                 truth: np.ndarray | None = None, steps: tuple[int, ...] | None = None, seed: int = 0,
                 batch_size: int = 256, random_repeats: int = 3) -> Faithfulness:
    """Deletion curves of every method on the same positives.

    Parameters
    ----------
    sequences : M positive windows of length L
    scores : method -> per-base scores, shape (M, L); a random ranking is added
    truth : optional boolean (M, L), True on planted bases
    steps : the k values (default 0, 1, 2, 4, 6, 8, 12, 16 and H = (L - 1) // 2: every
        replaced base needs its own low-ranked partner, and beyond half of the movable
        bases there are none left, so larger k would leave windows unchanged)
    """
    length = len(sequences[0])
    half = (length - 1) // 2
    steps = steps or tuple(sorted({0, 1, 2, 4, 6, 8, 12, 16, half} & set(range(half + 1))))
    rng = np.random.default_rng(seed)
    methods = dict(scores)
    for repeat in range(random_repeats):
        methods[f"{RANDOM}_{repeat}"] = rng.random((len(sequences), length))
    curves = []
    for method, values in methods.items():
        for k in steps:
            deleted = [delete_top(s, values[i], k) for i, s in enumerate(sequences)]
            curves.append((method, k, float(predict_proba(model, deleted, batch_size).mean())))
    frame = pd.DataFrame(curves, columns=["method", "k", "mean_p_modified"])
    randoms = frame[frame.method.str.startswith(RANDOM + "_")]
    frame = pd.concat([frame[~frame.method.str.startswith(RANDOM + "_")],
                       randoms.groupby("k", as_index=False).mean_p_modified.mean().assign(method=RANDOM)],
                      ignore_index=True)
    rows = []
    for method, curve in frame.groupby("method", sort=False):
        area = float(np.trapezoid(curve.mean_p_modified, curve.k) / max(curve.k.max(), 1))
        row = {"method": method, "deletion_area": area}
        if truth is not None:
            values = methods[method] if method != RANDOM else methods[f"{RANDOM}_0"]
            row.update(planted_auroc=roc_auc(truth.ravel(), values.ravel()),
                       planted_auprc=average_precision(truth.ravel(), values.ravel()))
        rows.append(row)
    table = pd.DataFrame(rows).sort_values("deletion_area").reset_index(drop=True)
    return Faithfulness(table, frame)


def plot_curves(curves: pd.DataFrame, stem, n: int) -> None:
    """The deletion curves of every method (random dashed), as ``stem``.png/.svg."""
    from pathlib import Path

    from ..core.figures import plt, save_figure

    figure, axis = plt.subplots(figsize=(6, 3.6))
    for method, curve in curves.groupby("method", sort=False):
        axis.plot(curve.k, curve.mean_p_modified, marker="o", ms=3, label=method,
                  ls="--" if method == RANDOM else "-", color="grey" if method == RANDOM else None)
    axis.set_xlabel("top-ranked bases replaced (k)")
    axis.set_ylabel("mean P(modified)")
    axis.set_title(f"Deletion curves on {n} positives (lower = more faithful)", fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, Path(stem))
