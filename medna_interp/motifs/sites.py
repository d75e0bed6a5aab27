"""Motif sites in the input windows (FIMO, through pymemesuite's Python API).

Windows are centred on the candidate base, so where sites fall relative to the centre,
and how many more positives than negatives carry one, is evidence for a motif.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.io import SequenceSet
from .motif import Motif, write_meme


@dataclass
class SiteScan:
    """sites: one row per site (motif, id, label, start, end (1-based), strand, score, p);
    positions: per motif, label and offset of the site centre from the window centre, counts;
    summary: per motif, fraction of positives and negatives with a site."""

    sites: pd.DataFrame
    positions: pd.DataFrame
    summary: pd.DataFrame


def information_content(pwm: np.ndarray) -> float:
    """Total information of a PWM in bits (uniform background)."""
    p = np.clip(pwm, 1e-9, 1.0)
    return float((2.0 + (p * np.log2(p)).sum(1)).sum())


def scan_sites(motifs: list[Motif], data: SequenceSet, work: str | os.PathLike, threshold: float = 1e-3,
               both_strands: bool = False) -> SiteScan:
    """FIMO every motif over every labelled window at p < ``threshold``.

    Short or degenerate motifs cannot reach small p-values: the best p is about
    2^-IC for a motif of IC bits (a perfect 4-mer: 2^-8), so each motif's threshold is
    relaxed to ``max(threshold, 2^-IC)``, capped at 0.05.
    """
    from pymemesuite.common import MotifFile, Sequence
    from pymemesuite.fimo import FIMO

    labels = data.require_labels()
    centre = data.length // 2 + 1  # 1-based centre base
    path = Path(work) / "scan.meme"
    write_meme(path, motifs, strands="+ -" if both_strands else "+")
    sequences = [Sequence(s, name=str(i).encode()) for i, s in enumerate(data.sequences)]
    rows = []
    with MotifFile(str(path)) as handle:
        background = handle.background
        for motif in motifs:
            parsed = handle.read()
            limit = min(0.05, max(threshold, 2.0 ** -information_content(motif.pwm)))
            pattern = FIMO(both_strands=both_strands, threshold=limit).score_motif(parsed, sequences, background)
            for element in pattern.matched_elements:
                index = int(element.source.accession.decode())
                start, stop = sorted((element.start, element.stop))
                rows.append((motif.id, data.ids[index], int(labels[index]), start, stop, element.strand,
                             element.score, element.pvalue))
    sites = pd.DataFrame(rows, columns=["motif", "id", "label", "start", "end", "strand", "score", "p_value"])
    sites["offset"] = (sites.start + sites.end) / 2 - centre
    positions = sites.groupby(["motif", "label", "offset"]).size().rename("count").reset_index()
    n_pos, n_neg = int((labels == 1).sum()), int((labels == 0).sum())
    carrying = sites.drop_duplicates(["motif", "id"]).groupby(["motif", "label"]).size().unstack(fill_value=0)
    carrying = carrying.reindex(index=[m.id for m in motifs], columns=[0, 1], fill_value=0)
    summary = pd.DataFrame({"motif": carrying.index, "frac_pos_with_site": carrying[1].to_numpy() / max(n_pos, 1),
                            "frac_neg_with_site": carrying[0].to_numpy() / max(n_neg, 1)})
    return SiteScan(sites, positions, summary)
