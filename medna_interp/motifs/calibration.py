"""Whether a motif source is calibrated: what it finds when the labels are permuted.

Under permuted labels there is no class contrast, so a source that still reports a
significant motif finds motifs in noise, and its motifs on the real labels cannot be
called discoveries. :func:`judge_sources` turns the label-permuted repeat of
:func:`medna_interp.motifs.discover.discover` into each source's ``null_check`` and each
motif's ``discovery``.
"""

from __future__ import annotations

import pandas as pd

#: a source's standing after the label-permuted repeat (``null_check`` of ``sources.tsv``)
CALIBRATED, NOT_CALIBRATED, NOT_TESTED = "calibrated", "not calibrated", "not tested"


def judge_sources(sources: pd.DataFrame, motifs: pd.DataFrame, null_sources: pd.DataFrame | None,
                  rerun: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copies of ``sources`` with ``null_significant`` and ``null_check``, and of ``motifs``
    with ``discovery`` (significant, from a source not found wanting) and a note on each
    significant motif that lost it.

    Parameters
    ----------
    sources, motifs : ``sources.tsv`` and ``motifs.tsv`` of the real labels
    null_sources : ``sources.tsv`` of the label-permuted repeat; None when it did not run
    rerun : the sources the repeat ran (others stay "not tested")
    """
    sources, motifs = sources.copy(), motifs.copy()
    under_null = null_sources.set_index("source").significant if null_sources is not None else None
    sources["null_significant"] = pd.array([int(under_null[s]) if s in rerun else None for s in sources.source],
                                           dtype="Int64")
    sources["null_check"] = [NOT_TESTED if s not in rerun else CALIBRATED if n == 0 else NOT_CALIBRATED
                             for s, n in zip(sources.source, sources.null_significant)]
    check = dict(zip(sources.source, sources.null_check))
    failed = dict(zip(sources.source, sources.null_significant))
    significant = motifs.significant.fillna(False).astype(bool)
    motifs["discovery"] = significant & motifs.source.map(check).ne(NOT_CALIBRATED)
    lost = significant & ~motifs.discovery
    motifs.loc[lost, "note"] = [f"not a discovery: under permuted labels {source} found {failed[source]} "
                                "significant motif(s)" for source in motifs.source[lost]]
    return sources, motifs
