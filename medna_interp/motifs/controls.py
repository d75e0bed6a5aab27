"""What STREME contrasts a source's primaries with, and the composition check every motif gets:
the exported negatives, STREME's own shuffles, or negatives matched to the primaries' GC."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from ..data.composition import Matching, match_controls
from ..data.io import SequenceSet, read_records, write_fasta

#: what STREME contrasts each source's primaries with: the exported (or raw) negatives, STREME's
#: own shuffles of the primaries, or negatives drawn to the primaries' GC distribution
CONTROLS = ("negatives", "shuffled", "matched")
#: a motif whose sites are enriched in positives against all negatives (one-sided Fisher p
#: below this) but not against GC-matched negatives is "explained by composition"
COMPOSITION_P = 0.01
EXPLAINED = "explained by composition"


def check_controls(controls: str) -> None:
    if controls not in CONTROLS:
        raise MednaError(f"controls must be one of {', '.join(CONTROLS)}, got {controls!r}")


def matched_negatives(data: SequenceSet, seed: int, required: bool, cpg: bool = False) -> Matching | str:
    """The data's negative windows matched to its positives' GC (indices into the negatives),
    or, when they cannot be matched and ``required`` is false, why not.

    Raises
    ------
    MednaError : when ``required`` and too few negatives can be matched
    """
    labels = data.require_labels()
    positives = [s for s, y in zip(data.sequences, labels) if y == 1]
    negatives = [s for s, y in zip(data.sequences, labels) if y == 0]
    try:
        return match_controls(positives, negatives, cpg=cpg, seed=seed, what=f"negatives of {data.source}")
    except MednaError as error:
        if required:
            raise MednaError(f"--controls matched: {error}", hint=error.hint) from None
        return str(error)


def describe_matching(matching: Matching | str) -> dict:
    if isinstance(matching, str):
        return {"matched": False, "reason": matching}
    gc = matching.quality.set_index("feature").loc["gc_fraction"]
    return {"matched": True, "n_matched": int(gc.n_matched), "gc_ks_before": round(float(gc.ks_before), 4),
            "gc_ks_after": round(float(gc.ks_after), 4)}


def controls_for(primary: Path, control: Path, n_negatives: int, folder: Path, controls: str, cpg: bool,
                  seed: int) -> tuple[Path | None, dict, str | None]:
    """The control FASTA STREME gets (None: its own shuffles), what ``sources.tsv`` says of it
    (``controls``, ``n_control``), and why the source is left out (None: it is not).

    ``matched`` writes ``control_matched.fa`` and ``matching.tsv`` into ``folder``; when the
    source's negatives cannot be matched, the source is left out rather than run against others.
    """
    if controls == "negatives":
        return control, {"controls": "negatives", "n_control": n_negatives}, None
    if controls == "shuffled":
        return None, {"controls": "shuffled primaries", "n_control": 0}, None
    primaries = [sequence for _, sequence, _ in read_records(primary)]
    pool = read_records(control)
    try:
        matching = match_controls(primaries, [sequence for _, sequence, _ in pool], cpg=cpg, seed=seed,
                                  what=f"control sequences in {control.name}")
    except MednaError as error:
        return None, {"controls": "matched: too few negatives", "n_control": 0}, f"no matched controls: {error}"
    write_fasta(folder / "control_matched.fa", [pool[i][:2] for i in matching.index])
    matching.quality.to_csv(folder / "matching.tsv", sep="\t", index=False, float_format="%.4g")
    gc = matching.quality.set_index("feature").loc["gc_fraction"]
    what = (f"GC-matched negatives ({int(gc.n_matched)} of {int(gc.n_pool)}; "
            f"GC KS {gc.ks_before:.2f} -> {gc.ks_after:.2f})")
    return folder / "control_matched.fa", {"controls": what, "n_control": int(gc.n_matched)}, None


def composition_check(scan, data: SequenceSet, matching: Matching | str) -> dict[str, dict]:
    """Per motif: the share of GC-matched negative windows with a site, the one-sided Fisher p
    of positives against them, and whether all negatives but not the matched ones explain it."""
    if isinstance(matching, str):
        return {}
    from scipy.stats import fisher_exact

    labels = data.require_labels()
    ids = np.asarray(data.ids)
    positives, negatives = set(ids[labels == 1]), ids[labels == 0]
    matched = set(negatives[matching.index])
    n_pos, n_neg, n_matched = len(positives), len(negatives), len(matched)
    carriers = scan.sites.groupby("motif")["id"].agg(lambda x: set(x))
    checked = {}
    for motif, carrying in carriers.items():
        in_pos, in_neg, in_matched = len(carrying & positives), len(carrying - positives), len(carrying & matched)
        against_all = fisher_exact([[in_pos, n_pos - in_pos], [in_neg, n_neg - in_neg]], alternative="greater")[1]
        against_matched = fisher_exact([[in_pos, n_pos - in_pos], [in_matched, n_matched - in_matched]],
                                       alternative="greater")[1]
        checked[motif] = {"frac_matched_with_site": in_matched / max(n_matched, 1), "composition_p": against_matched,
                          "composition": EXPLAINED if against_all < COMPOSITION_P <= against_matched else ""}
    return checked
