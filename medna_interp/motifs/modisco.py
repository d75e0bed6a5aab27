"""TF-MoDISco (modisco-lite) as a motif source: seqlets of per-base attributions clustered
into motifs, each tested for class enrichment on windows it was not built from.

What TF-MoDISco gets
--------------------
The selected positives of a discovery half of the selection (seeded, stratified by label),
one-hot, with their *hypothetical* contributions, shape (N, L, 4): what each base would
contribute if it were at that position. ISM has them: the change in log-odds when position
i is set to base b, centred on the mean over the four bases (so that the reference base's
entry is its mean drop). CWGA has one score per base, so its hypothetical contributions are
that score on the observed base and 0 elsewhere; TF-MoDISco then compares seqlets by their
actual contributions only.

Settings for 41-bp windows
--------------------------
modisco-lite's defaults (21-bp seqlet cores with 10-bp flanks, 100 seqlets per
metacluster) are made for 1 kb windows and find nothing in 41 bp. :class:`ModiscoOptions`
scales them down: 6-bp cores with 3-bp flanks, patterns trimmed to 10 bp, at least 20
seqlets per metacluster and 10 per motif.

The gate
--------
TF-MoDISco reports no significance. A motif of a positive-contribution pattern is tested
on the held-out half: the share of positives with a site against the share of negatives
(one-sided Fisher), and the other way round for a negative-contribution pattern; its
E-value is that p times the number of patterns tested, the same scale as STREME's. A site
is a match scoring at least 80 % of the way from the matrix's lowest to its highest
log-odds score, on either strand. Under permuted labels neither half has a class
contrast, so the gate is calibrated by construction and the null checks it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..core.errors import MednaError, check_options
from ..core.sequence import BASES, one_hot
from .motif import Motif

#: a site scores at least this far from the matrix's lowest to its highest score
RELATIVE_SITE_SCORE = 0.8
#: columns whose summed |contribution| is below this share of the strongest are trimmed off
TRIM_SHARE = 0.3
#: trimming keeps at least this many columns (STREME's narrowest motif), so that a pattern
#: whose contribution sits on one or two bases still has a context to match and scan
MIN_WIDTH = 4
#: the per-base sources whose attributions TF-MoDISco reads
INPUTS = ("cwga", "ism")
_INSTALL = "pip install 'medna-interp[modisco]' (modisco-lite)"


@dataclass(frozen=True)
class ModiscoOptions:
    """TF-MoDISco settings for short windows (see the module docstring)."""

    window: int = 6
    flank: int = 3
    trim_to: int = 10
    min_seqlets: int = 20
    min_cluster: int = 10
    leiden_runs: int = 4
    max_windows_frac: float = 0.3
    held_out: float = 0.5

    def __post_init__(self):
        problems = [
            (self.window >= 3, f"window must be at least 3, got {self.window}"),
            (self.flank >= 0, f"flank must be 0 or more, got {self.flank}"),
            (self.trim_to >= self.window, f"trim_to must be at least window ({self.window}), got {self.trim_to}"),
            (self.min_seqlets >= 2, f"min_seqlets must be at least 2, got {self.min_seqlets}"),
            (self.min_cluster >= 2, f"min_cluster must be at least 2, got {self.min_cluster}"),
            (self.leiden_runs >= 1, f"leiden_runs must be at least 1, got {self.leiden_runs}"),
            (0 < self.max_windows_frac <= 1, f"max_windows_frac must be in (0, 1], got {self.max_windows_frac}"),
            (0 < self.held_out < 1, f"held_out must be in (0, 1), got {self.held_out}"),
        ]
        check_options("modisco", problems)


@dataclass
class ModiscoResult:
    """The motifs (``pwm`` (W, 4); ``info``: ``cwm`` (W, 4), ``sign``, held-out counts), how
    many positive windows TF-MoDISco read, and which rows of the selection were held out."""
    motifs: list[Motif]
    n_windows: int
    held_out: np.ndarray


def require_modisco() -> None:
    """Fail with the install line when modisco-lite is missing."""
    try:
        import modiscolite  # noqa: F401
    except ImportError:
        raise MednaError("the modisco source needs modisco-lite, which is not installed", hint=_INSTALL) from None


def modisco_motifs(sequences: list[str], labels: np.ndarray, scores: np.ndarray, *,
                   hypothetical: np.ndarray | None = None, options: ModiscoOptions = ModiscoOptions(),
                   seed: int = 0, label: str = "modisco", what: str = "attributions") -> ModiscoResult:
    """TF-MoDISco motifs of the positives' attributions, gated on held-out windows.

    Parameters
    ----------
    sequences : M windows of one length L
    labels : shape (M,), 1 for positives, 0 for negatives
    scores : shape (M, L), the per-base score (CWGA attribution, ISM mean drop)
    hypothetical : shape (M, L, 4), hypothetical contributions where the method has them;
        None uses ``scores`` on the observed base
    seed : picks the held-out half
    label : the motif ids' prefix
    what : names the attributions in messages (e.g. a file)

    Raises
    ------
    MednaError : modisco-lite missing, arrays of the wrong shape, too few windows or seqlets
    """
    require_modisco()
    labels = np.asarray(labels)
    length = len(sequences[0]) if len(sequences) else 0
    if scores.shape != (len(sequences), length):
        raise MednaError(f"{what}: scores of shape {scores.shape}, expected ({len(sequences)}, {length}): "
                         "one per base of each selected window")
    if hypothetical is not None and hypothetical.shape != (len(sequences), length, 4):
        raise MednaError(f"{what}: hypothetical contributions of shape {hypothetical.shape}, "
                         f"expected ({len(sequences)}, {length}, 4)")
    if labels.shape != (len(sequences),):
        raise MednaError(f"{what}: {labels.shape[0]} labels for {len(sequences)} windows")
    if not np.isfinite(scores).all():
        raise MednaError(f"{what}: the scores hold NaN or infinite values")
    held_out = _held_out(labels, options.held_out, seed)
    built = ~held_out & (labels == 1)
    if built.sum() < options.min_seqlets or not (held_out & (labels == 0)).any():
        raise MednaError(f"{what}: too few windows for TF-MoDISco: {int(built.sum())} positives to build from "
                         f"(at least {options.min_seqlets}) and {int((held_out & (labels == 0)).sum())} held-out "
                         "negatives (at least 1)", hint="select more windows (--max-per-class)")
    encoded = one_hot(list(sequences)).astype(np.float64)
    if hypothetical is None:
        hypothetical = encoded * scores[:, :, None]
    patterns = _run(encoded[built], np.asarray(hypothetical, dtype=np.float64)[built], options, what)
    motifs = [_motif(pattern, sign, f"{label}:{number}") for number, (pattern, sign) in enumerate(patterns, 1)]
    _gate(motifs, encoded[held_out], labels[held_out])
    return ModiscoResult(motifs, int(built.sum()), held_out)


def _held_out(labels: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A seeded, label-stratified mask of the rows held out for the gate."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == value))
        mask[rows[:int(round(share * len(rows)))]] = True
    return mask


def _run(encoded: np.ndarray, hypothetical: np.ndarray, options: ModiscoOptions, what: str) -> list:
    """TF-MoDISco's patterns with their signs, positive first."""
    import logging

    from modiscolite.tfmodisco import TFMoDISco

    logging.getLogger("numba").setLevel(logging.WARNING)
    try:
        positive, negative = TFMoDISco(
            one_hot=encoded, hypothetical_contribs=hypothetical, sliding_window_size=options.window,
            flank_size=options.flank, min_metacluster_size=options.min_seqlets,
            max_passing_windows_frac=options.max_windows_frac, n_leiden_runs=options.leiden_runs,
            trim_to_window_size=options.trim_to, initial_flank_to_add=min(2, options.flank),
            final_flank_to_add=min(2, options.flank),
            final_min_cluster_size=options.min_cluster, min_num_to_trim_to=options.min_cluster,
            nearest_neighbors_to_compute=100)
    except (ValueError, IndexError) as error:  # its clustering fails on very few seqlets
        raise MednaError(f"{what}: too few seqlets for TF-MoDISco to cluster ({error})") from None
    if positive is None and negative is None:
        raise MednaError(f"{what}: too few seqlets: TF-MoDISco needs more than {options.min_seqlets} "
                         "seqlets of one sign", hint="select more windows (--max-per-class) or lower --min-seqlets")
    return [(p, "+") for p in positive or []] + [(p, "-") for p in negative or []]


def _motif(pattern, sign: str, motif_id: str) -> Motif:
    """A :class:`Motif` of a pattern: its letter frequencies and contribution weights, trimmed
    to the columns that carry contribution (at least ``MIN_WIDTH``), on the strand most of its
    seqlets lie on."""
    pwm, cwm = np.asarray(pattern.sequence, dtype=float), np.asarray(pattern.contrib_scores, dtype=float)
    strength = np.abs(cwm).sum(1)
    keep = np.flatnonzero(strength >= TRIM_SHARE * strength.max())
    start, end = keep[0], keep[-1] + 1
    if end - start < MIN_WIDTH:  # widen around the strong columns, inside the pattern
        width = min(MIN_WIDTH, len(pwm))
        start = int(np.clip((start + end - width) // 2, 0, len(pwm) - width))
        end = start + width
    pwm, cwm = pwm[start:end], cwm[start:end]
    seqlets = pattern.seqlets
    if sum(s.is_revcomp for s in seqlets) > len(seqlets) / 2:
        pwm, cwm = pwm[::-1, ::-1], cwm[::-1, ::-1]
    pwm = np.clip(pwm, 0, None)
    pwm = pwm / pwm.sum(1, keepdims=True)
    consensus = "".join(BASES[i] for i in pwm.argmax(1))
    return Motif(f"{motif_id}-{consensus}", consensus, pwm.copy(), len(seqlets),
                 info={"cwm": cwm.copy(), "sign": sign})


def _best_scores(pwm: np.ndarray, encoded: np.ndarray) -> tuple[np.ndarray, float]:
    """Each window's best log-odds score on either strand, shape (N,), and the site threshold."""
    log_odds = np.log2((pwm + 0.01) / 1.04 / 0.25)
    width = len(pwm)
    if encoded.shape[1] < width:
        return np.full(len(encoded), -np.inf), 0.0
    windows = np.lib.stride_tricks.sliding_window_view(encoded, width, axis=1)  # (N, S, 4, W)
    forward = np.einsum("nscw,wc->ns", windows, log_odds)
    reverse = np.einsum("nscw,wc->ns", windows, log_odds[::-1, ::-1])
    low, high = log_odds.min(1).sum(), log_odds.max(1).sum()
    return np.maximum(forward, reverse).max(1), low + RELATIVE_SITE_SCORE * (high - low)


def _gate(motifs: list[Motif], encoded: np.ndarray, labels: np.ndarray) -> None:
    """Each motif's held-out Fisher p and E (p x the number of motifs)."""
    from scipy.stats import fisher_exact

    for motif in motifs:
        best, threshold = _best_scores(motif.pwm, encoded)
        carrying = best >= threshold
        in_pos, in_neg = int(carrying[labels == 1].sum()), int(carrying[labels == 0].sum())
        n_pos, n_neg = int((labels == 1).sum()), int((labels == 0).sum())
        table = [[in_pos, n_pos - in_pos], [in_neg, n_neg - in_neg]]
        alternative = "greater" if motif.info["sign"] == "+" else "less"
        motif.pvalue = float(fisher_exact(table, alternative=alternative)[1])
        motif.evalue = min(1.0, motif.pvalue * len(motifs))
        motif.info.update(held_out_pos_with_site=in_pos, held_out_pos=n_pos, held_out_neg_with_site=in_neg,
                          held_out_neg=n_neg)


def modisco_source(run_dir: Path, source: str, view: str, folder: Path, options: ModiscoOptions,
                   seed: int) -> tuple[list[Motif], dict]:
    """TF-MoDISco on one source's attributions in ``run_dir``: its motifs, labelled
    ``modisco_SOURCE_VIEW``, and what ``sources.tsv`` says of the source; writes the motifs
    (``modisco.meme``) and their contribution-weight matrices (``cwms.npz``) into ``folder``."""
    result, labels = _of_run(run_dir, source, view, options, seed, f"{source} {view} attributions")
    folder.mkdir(parents=True, exist_ok=True)
    _write_matrices(folder, result.motifs)
    held_out_negatives = int((result.held_out & (labels == 0)).sum())
    return result.motifs, {"n_primary": result.n_windows, "n_control": held_out_negatives,
                           "controls": f"held-out selected windows ({int(result.held_out.sum())}), Fisher"}


def modisco(run_dir: str | os.PathLike, source: str, view: str, output: str | os.PathLike,
            options: ModiscoOptions = ModiscoOptions(), *, seed: int = 0, force: bool = False) -> ModiscoResult:
    """``medna-interp modisco``: TF-MoDISco on one source's attributions in a run directory.

    Writes into ``output`` (a new folder, or one of ours): ``modisco.meme`` (the motifs'
    letter frequencies), ``cwms.npz`` (their contribution weights, (W, 4) per motif id),
    ``patterns.tsv`` (consensus, seqlets, sign, held-out counts, p and E) and a logo and
    a contribution logo per motif. Everything is checked, and TF-MoDISco has run, before
    anything is written.

    Parameters
    ----------
    run_dir : a run directory with the source's outputs (``cwga`` or ``ism``)
    source, view : ``cwga`` with ``kmer`` or ``bpe``; ``ism`` with ``bases``
    seed : picks the held-out half
    """
    import pandas as pd

    from ..core.outputs import claim_directory, step_outputs
    from ..core.provenance import provenance
    from .export import VIEWS, source_files
    from .logos import contribution_logo, logo_stem, motif_logo

    if source not in INPUTS:
        raise MednaError(f"TF-MoDISco reads per-base attributions: source must be one of {', '.join(INPUTS)}, "
                         f"got {source!r}")
    if view not in VIEWS[source]:
        raise MednaError(f"view {view!r} does not exist for source {source}; it has {', '.join(VIEWS[source])}")
    require_modisco()
    run_dir, output = Path(run_dir), Path(output)
    read = source_files(run_dir, source, view)
    claim_directory(output, "modisco", inputs=read, force=force)
    result, _ = _of_run(run_dir, source, view, options, seed, str(read[-1]))
    record = provenance({"source": source, "view": view, **asdict(options)},
                        {p.name: p for p in read if p.exists()}, seed)
    rows = [{"motif": m.id, "consensus": m.consensus, "width": m.width, "seqlets": m.nsites, "sign": m.info["sign"],
             **{k: v for k, v in m.info.items() if k.startswith("held_out")}, "pvalue": m.pvalue, "evalue": m.evalue}
            for m in result.motifs]
    with step_outputs(output, "modisco", record, kind="modisco") as stage:
        _write_matrices(stage.path, result.motifs)
        pd.DataFrame(rows).to_csv(stage.path / "patterns.tsv", sep="\t", index=False, float_format="%.4g")
        for motif in result.motifs:
            motif_logo(motif, stage.path / logo_stem(motif.id))
            contribution_logo(motif, stage.path)
    return result


def _of_run(run_dir: Path, source: str, view: str, options: ModiscoOptions, seed: int,
            what: str) -> tuple[ModiscoResult, np.ndarray]:
    """:func:`modisco_motifs` on a source's selection and attributions, and the selection's labels."""
    from .export import hypothetical_scores, per_base_scores

    selection, scores = per_base_scores(run_dir, source, view)
    labels = selection.label.to_numpy()
    result = modisco_motifs(list(selection.sequence), labels, scores, hypothetical=hypothetical_scores(run_dir, source),
                            options=options, seed=seed, label=f"modisco_{source}_{view}", what=what)
    return result, labels


def _write_matrices(folder: Path, motifs: list[Motif]) -> None:
    """The motifs' letter frequencies (``modisco.meme``) and contribution weights (``cwms.npz``)."""
    from .motif import write_meme

    if motifs:
        write_meme(folder / "modisco.meme", motifs)
    np.savez_compressed(folder / "cwms.npz", **{m.id: m.info["cwm"] for m in motifs})
