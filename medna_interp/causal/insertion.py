"""Is a motif enough? Place it into neutral windows and watch the model's call.

Each motif is written into backgrounds (dinucleotide shuffles of the data's windows, and
the data's negative windows) at every offset on each strand; the change in P(modified)
and in the log-odds against the untouched background, averaged over backgrounds with a
bootstrap interval, is the motif's positional profile. A pair of motifs (A at its best
offset, B swept over every offset that does not overlap it, in both relative
orientations) gives a spacing profile, what B adds where A already sits (``P(AB) - P(A)``),
and the interaction term ``(AB - bg) - (A - bg) - (B - bg)``: positive when the model
wants both together (AND-like grammar).

The window's centre base is the candidate site of iDNA-MS windows: a placement that would
change it is skipped and counted, never scored. Shuffles keep the centre and shuffle each
flank separately (tangermeme's dinucleotide shuffle), so every background stays a window
of the kind the model was trained on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from ..core.errors import MednaError
from ..core.sequence import IUPAC, iupac_pattern, reverse_complement
from ..data.io import SequenceSet
from ..interpret.ism import log_odds
from ..models.medna_dfm import MednaDFM

BACKGROUNDS = ("shuffled", "negatives")
STRANDS = ("+", "-")
COLUMNS = ["motif", "role", "sequence", "strand", "offset", "background", "n", "skipped", "mean_delta_p",
           "ci_low", "ci_high", "mean_delta_logit"]
PAIR_COLUMNS = ["motif_a", "strand_a", "offset_a", "motif_b", "offset_b", "orientation", "background", "n",
                "mean_delta_p", "ci_low", "ci_high", "delta_p_given_a", "given_a_low", "given_a_high", "interaction",
                "interaction_low", "interaction_high", "mean_delta_logit"]


@dataclass(frozen=True)
class Placeable:
    """A motif to insert: a name, its IUPAC ``consensus`` and, for a discovered motif, its
    letter-probability matrix ``pwm`` (W, 4) in A, C, G, T order."""

    name: str
    consensus: str
    pwm: np.ndarray | None = field(default=None, compare=False)

    @property
    def width(self) -> int:
        return len(self.consensus)

    @classmethod
    def parse(cls, text: str) -> "Placeable":
        """An IUPAC motif typed by the user (``GAGG``, ``AAAAA``, ``GAGR``)."""
        pattern = iupac_pattern(text)
        return cls(pattern, pattern)

    def best(self) -> str:
        """The most likely k-mer: the matrix's top base per position, or the first base of each IUPAC letter."""
        if self.pwm is not None:
            return "".join("ACGT"[i] for i in np.argmax(self.pwm, axis=1))
        return "".join(IUPAC[c][0] if len(IUPAC[c]) == 1 else "N" for c in self.consensus)

    def instances(self, n: int, rng: np.random.Generator, consensus: bool) -> list[str]:
        """One concrete k-mer per background: sampled from the matrix (or uniformly within
        each IUPAC letter); with ``consensus`` the matrix's top bases (IUPAC letters still drawn)."""
        if self.pwm is not None:
            if consensus:
                return [self.best()] * n
            cumulative = np.cumsum(self.pwm / self.pwm.sum(axis=1, keepdims=True), axis=1)
            draws = (rng.random((n, self.width, 1)) > cumulative[None]).sum(axis=2).clip(0, 3)
            return ["".join("ACGT"[i] for i in row) for row in draws]
        choices = [IUPAC[c] for c in self.consensus]
        if all(len(c) == 1 for c in choices):
            return [self.consensus] * n
        return ["".join(c[rng.integers(len(c))] for c in choices) for _ in range(n)]


def control_kmer(kmer: str, rng: np.random.Generator, keeps=lambda candidate: True, tries: int = 200) -> str:
    """A random k-mer with the composition of ``kmer`` that is neither it nor its reverse
    complement and satisfies ``keeps`` (it leaves the centre base alone where it goes);
    when no permutation does (AAAAA), one with the same G+C content."""
    letters = np.array(list(kmer))
    avoid = {kmer, reverse_complement(kmer)}
    swap = {"A": "AT", "T": "AT", "C": "CG", "G": "CG"}
    draws = [lambda: "".join(rng.permutation(letters)), lambda: "".join(swap[c][rng.integers(2)] for c in kmer)]
    for draw in draws:
        for _ in range(tries):
            candidate = draw()
            if candidate not in avoid and keeps(candidate):
                return candidate
    return kmer


def _shuffled_backgrounds(sequences: list[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` windows drawn from ``sequences``, each flank dinucleotide-shuffled, the centre kept."""
    from tangermeme.ersatz import dinucleotide_shuffle

    import torch

    from ..core.sequence import one_hot

    chosen = [sequences[i] for i in rng.integers(0, len(sequences), n)]
    length, centre = len(chosen[0]), len(chosen[0]) // 2
    x = torch.from_numpy(one_hot(chosen).astype(np.int8).transpose(0, 2, 1).copy())  # (N, 4, L), tangermeme's layout
    for start, end in ((0, centre), (centre + 1, length)):
        if end - start > 2:
            x = dinucleotide_shuffle(x, start=start, end=end, n=1, random_state=int(rng.integers(2 ** 31)))[:, 0]
    return ["".join("ACGT"[i] for i in row) for row in x.argmax(dim=1).numpy()]


def make_backgrounds(data: SequenceSet, which: str = "both", n: int = 200, seed: int = 0) -> dict[str, list[str]]:
    """Background windows by kind: ``shuffled`` (``n`` dinucleotide shuffles of the data's
    windows) and ``negatives`` (up to ``n`` of the data's negative windows, drawn seeded)."""
    if which not in (*BACKGROUNDS, "both"):
        raise MednaError(f"background must be shuffled, negatives or both, got {which!r}")
    if n < 1:
        raise MednaError(f"the number of backgrounds must be at least 1, got {n}")
    rng = np.random.default_rng(seed)
    kinds = BACKGROUNDS if which == "both" else (which,)
    out: dict[str, list[str]] = {}
    if "shuffled" in kinds:
        if not len(data):
            raise MednaError(f"{data.source}: no windows to shuffle into backgrounds")
        out["shuffled"] = _shuffled_backgrounds(list(data.sequences), n, rng)
    if "negatives" in kinds:
        negatives = np.flatnonzero(data.labels == 0) if data.labels is not None else np.empty(0, int)
        if not len(negatives):
            raise MednaError(f"{data.source}: no negative windows (label 0) to insert into",
                             hint="use --background shuffled, or give labelled data (or --negatives)")
        chosen = np.sort(rng.choice(negatives, size=min(n, len(negatives)), replace=False))
        out["negatives"] = [data.sequences[i] for i in chosen]
    return out


def place(background: str, kmer: str, offset: int, strand: str) -> str | None:
    """``kmer`` (reverse-complemented on ``-``) written at 0-based ``offset``; None when that
    would change the centre base."""
    if strand == "-":
        kmer = reverse_complement(kmer)
    placed = background[:offset] + kmer + background[offset + len(kmer):]
    centre = len(background) // 2
    return placed if placed[centre] == background[centre] else None


class _Bootstrap:
    """Resampled means over backgrounds: one set of ``n`` resamples of the same backgrounds
    shared by every placement, so profiles are comparable offset to offset."""

    def __init__(self, n_backgrounds: int, resamples: int, rng: np.random.Generator):
        self.weights = rng.multinomial(n_backgrounds, np.full(n_backgrounds, 1 / n_backgrounds),
                                       size=resamples).astype(float) if resamples else None

    def interval(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """95 % percentile intervals of the mean of each column of ``values`` (n, G), NaN = skipped."""
        if self.weights is None or values.size == 0:
            nan = np.full(values.shape[1], np.nan)
            return nan, nan
        mask = ~np.isnan(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (self.weights @ np.where(mask, values, 0.0)) / (self.weights @ mask)
        if not np.isfinite(means).any():
            nan = np.full(values.shape[1], np.nan)
            return nan, nan
        with warnings.catch_warnings():  # placements skipped in every background have no interval
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(means, [2.5, 97.5], axis=0)
        return low, high


@dataclass
class _Scored:
    """Per background (n) x strand x offset: P and log-odds of each placement (NaN = skipped)."""

    p: np.ndarray
    logit: np.ndarray
    strands: tuple[str, ...]
    offsets: list[int]

    def p_at(self, strand: str, offsets: list[int]) -> np.ndarray | None:
        """P at ``offsets`` on ``strand``, shape (n, len(offsets)); None unless all were scored."""
        if strand not in self.strands or not set(offsets) <= set(self.offsets):
            return None
        columns = [self.offsets.index(o) for o in offsets]
        return self.p[:, self.strands.index(strand)][:, columns]


def _score_placements(model: MednaDFM, backgrounds: list[str], kmers: list[str], strands: tuple[str, ...],
                      offsets: list[int], batch_size: int) -> _Scored:
    sequences, where = [], []
    for i, (background, kmer) in enumerate(zip(backgrounds, kmers)):
        for s, strand in enumerate(strands):
            for o, offset in enumerate(offsets):
                placed = place(background, kmer, offset, strand)
                if placed is not None:
                    sequences.append(placed)
                    where.append((i, s, o))
    logit = np.full((len(backgrounds), len(strands), len(offsets)), np.nan)
    if sequences:
        index = np.array(where)
        logit[index[:, 0], index[:, 1], index[:, 2]] = log_odds(model, sequences, batch_size)
    return _Scored(expit(logit), logit, tuple(strands), list(offsets))


@dataclass(frozen=True)
class InsertionResult:
    """``table``: one row per motif (or control), strand, offset and background kind
    (:data:`COLUMNS`); ``pairs``: one row per pair, B offset, orientation and background
    (:data:`PAIR_COLUMNS`); ``summary``: per motif and background, the best placement with
    its interval and the control k-mer there; ``pair_summary``: per pair, background and
    orientation, the best B offset with its interaction."""

    table: pd.DataFrame
    pairs: pd.DataFrame
    summary: list[dict]
    pair_summary: list[dict]
    options: dict


def start_offsets(width: int, length: int, offsets: tuple[int, int] | None, name: str) -> list[int]:
    if width > length:
        raise MednaError(f"motif {name} has {width} bases, more than the {length}-base windows")
    last = length - width
    if offsets is None:
        return list(range(last + 1))
    start, end = offsets
    if not 0 <= start <= end <= last:
        raise MednaError(f"offsets {start}-{end} fall outside the window for motif {name} "
                         f"({width} bases in {length}: starts 0-{last})")
    return list(range(start, end + 1))


def check_pairs(pairs, names: list[str]) -> None:
    for a, b in pairs:
        for name in (a, b):
            if name not in names:
                raise MednaError(f"--pair {a},{b}: {name} is not one of the motifs ({', '.join(names)})",
                                 hint="give it with --motif too")


def insert(model: MednaDFM, data: SequenceSet, motifs: list[Placeable], *, pairs: list[tuple[str, str]] = (),
           background: str = "both", n_backgrounds: int = 200, strand: str = "both", consensus: bool = False,
           offsets: tuple[int, int] | None = None, bootstrap: int = 1000, seed: int = 0,
           batch_size: int = 512) -> InsertionResult:
    """Insert each motif at every offset and strand into every background and score it.

    Parameters
    ----------
    data : the windows backgrounds are made from (negatives need labels)
    motifs : what to place; a discovered motif is sampled from its matrix per background
    pairs : (A, B) motif names; A goes to its best offset, B sweeps the rest
    background : ``shuffled``, ``negatives`` or ``both``
    strand : ``both``, ``+`` or ``-`` (``-`` places the reverse complement)
    offsets : (first, last) 0-based starts to place single motifs at; default every one
    bootstrap : resamples of the backgrounds for the 95 % intervals (0: none)

    Returns
    -------
    InsertionResult
    """
    if not motifs:
        raise MednaError("give at least one motif to insert")
    names = [m.name for m in motifs]
    if len(set(names)) != len(names):
        raise MednaError(f"motif {next(n for n in names if names.count(n) > 1)} is given twice")
    check_pairs(pairs, names)
    if strand not in ("both", *STRANDS):
        raise MednaError(f"strand must be both, + or -, got {strand!r}")
    if bootstrap < 0:
        raise MednaError(f"bootstrap must not be negative, got {bootstrap}")
    strands = STRANDS if strand == "both" else (strand,)
    length = data.length or len(data.sequences[0])
    placements = {m.name: start_offsets(m.width, length, offsets, m.name) for m in motifs}
    kinds = make_backgrounds(data, background, n_backgrounds, seed)

    rng = np.random.default_rng(seed + 1)
    instances = {m.name: {kind: m.instances(len(bgs), rng, consensus) for kind, bgs in kinds.items()}
                 for m in motifs}
    rows, summary, pair_rows, pair_summary = [], [], [], []
    for kind, bgs in kinds.items():
        base_logit = log_odds(model, bgs, batch_size)
        base_p = expit(base_logit)
        resample = _Bootstrap(len(bgs), bootstrap, np.random.default_rng(seed + 2))
        profiles, bests = {}, {}
        for motif in motifs:
            scored = _score_placements(model, bgs, instances[motif.name][kind], strands, placements[motif.name],
                                       batch_size)
            motif_rows = _rows(motif.name, "motif", _shown(motif, consensus), kind, strands, placements[motif.name],
                               scored, base_p, base_logit, resample)
            rows += motif_rows
            best = max((r for r in motif_rows if r["n"] > 0), key=lambda r: r["mean_delta_p"], default=None)
            profiles[motif.name], bests[motif.name] = scored, best
            entry = {"motif": motif.name, "background": kind, "consensus": motif.consensus,
                     "placed": _shown(motif, consensus), "n_backgrounds": len(bgs),
                     "skipped": int(np.isnan(scored.logit).sum())}
            if best is not None:
                # the control goes where the motif did best, so it must leave the centre alone there too
                kmer = control_kmer(motif.best().replace("N", "A"), rng,
                                    lambda c: place(bgs[0], c, best["offset"], best["strand"]) is not None)
                control = _score_placements(model, bgs, [kmer] * len(bgs), (best["strand"],), [best["offset"]],
                                            batch_size)
                (control_row,) = _rows(motif.name, "control", kmer, kind, (best["strand"],),
                                       [best["offset"]], control, base_p, base_logit, resample)
                rows.append(control_row)
                entry.update(best={k: best[k] for k in ("strand", "offset", "n", "mean_delta_p", "ci_low", "ci_high",
                                                        "mean_delta_logit")},
                             control={k: control_row[k] for k in ("sequence", "n", "mean_delta_p", "ci_low",
                                                                  "ci_high", "mean_delta_logit")})
            summary.append(entry)
        by_name = {m.name: m for m in motifs}
        for a, b in pairs:
            if bests[a] is None:
                continue
            new_rows = _pair_rows(model, by_name[a], by_name[b], kind, bgs, instances, bests[a], profiles, length,
                                  base_p, base_logit, resample, batch_size)
            pair_rows += new_rows
            pair_summary += _pair_summary(new_rows, a, b, kind)
    options = {"motifs": [m.name for m in motifs], "pairs": [list(p) for p in pairs], "background": background,
               "n_backgrounds": n_backgrounds, "strand": strand, "consensus": consensus,
               "offsets": list(offsets) if offsets else None, "bootstrap": bootstrap, "seed": seed}
    return InsertionResult(pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(pair_rows, columns=PAIR_COLUMNS),
                           summary, pair_summary, options)


def _shown(motif: Placeable, consensus: bool) -> str:
    """What the table's ``sequence`` says was placed."""
    return motif.best() if consensus or motif.pwm is None else f"sampled from {motif.consensus}"


def _rows(name: str, role: str, sequence: str, kind: str, strands, offsets, scored: _Scored, base_p: np.ndarray,
          base_logit: np.ndarray, resample: _Bootstrap) -> list[dict]:
    delta_p = (scored.p - base_p[:, None, None]).reshape(len(base_p), -1)
    delta_logit = (scored.logit - base_logit[:, None, None]).reshape(len(base_p), -1)
    low, high = resample.interval(delta_p)
    counts = (~np.isnan(delta_p)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean_p = np.nanmean(np.where(counts > 0, delta_p, 0.0), axis=0) if len(base_p) else np.zeros(delta_p.shape[1])
        mean_logit = np.nanmean(np.where(counts > 0, delta_logit, 0.0), axis=0) if len(base_p) else mean_p
    rows = []
    for column, (strand, offset) in enumerate((s, o) for s in strands for o in offsets):
        n = int(counts[column])
        rows.append({"motif": name, "role": role, "sequence": sequence, "strand": strand, "offset": offset,
                     "background": kind, "n": n, "skipped": len(base_p) - n,
                     "mean_delta_p": float(mean_p[column]) if n else np.nan,
                     "ci_low": float(low[column]), "ci_high": float(high[column]),
                     "mean_delta_logit": float(mean_logit[column]) if n else np.nan})
    return rows


def _pair_rows(model, a: Placeable, b: Placeable, kind: str, bgs: list[str], instances: dict, best: dict,
               profiles: dict[str, _Scored], length: int, base_p: np.ndarray, base_logit: np.ndarray,
               resample: _Bootstrap, batch_size: int) -> list[dict]:
    """A at its ``best`` placement, B swept; A alone and B alone are read from their profiles
    (B is scored only where ``--offsets`` kept it from being)."""
    strand_a, offset_a = best["strand"], best["offset"]
    p_a = profiles[a.name].p_at(strand_a, [offset_a])[:, 0]
    with_a = [place(bg, kmer, offset_a, strand_a) for bg, kmer in zip(bgs, instances[a.name][kind])]
    flip = {"+": "-", "-": "+"}
    out = []
    for orientation in ("same", "opposite"):
        strand_b = strand_a if orientation == "same" else flip[strand_a]
        offsets_b = [o for o in range(length - b.width + 1) if o + b.width <= offset_a or o >= offset_a + a.width]
        if not offsets_b:
            continue
        kmers = instances[b.name][kind]
        sequences, where = [], []
        for i, (seq, kmer) in enumerate(zip(with_a, kmers)):
            if seq is None:
                continue
            for o, offset in enumerate(offsets_b):
                placed = place(seq, kmer, offset, strand_b)
                if placed is not None:
                    sequences.append(placed)
                    where.append((i, o))
        logit_ab = np.full((len(bgs), len(offsets_b)), np.nan)
        if sequences:
            index = np.array(where)
            logit_ab[index[:, 0], index[:, 1]] = log_odds(model, sequences, batch_size)
        p_ab = expit(logit_ab)
        b_alone = profiles[b.name].p_at(strand_b, offsets_b)
        if b_alone is None:
            b_alone = _score_placements(model, bgs, kmers, (strand_b,), offsets_b, batch_size).p[:, 0, :]
        delta = p_ab - base_p[:, None]
        given_a = p_ab - p_a[:, None]
        interaction = given_a - b_alone + base_p[:, None]
        delta_logit = logit_ab - base_logit[:, None]
        low, high = resample.interval(delta)
        g_low, g_high = resample.interval(given_a)
        i_low, i_high = resample.interval(interaction)
        for o, offset in enumerate(offsets_b):
            n = int((~np.isnan(interaction[:, o])).sum())
            out.append({"motif_a": a.name, "strand_a": strand_a, "offset_a": offset_a, "motif_b": b.name,
                        "offset_b": offset, "orientation": orientation, "background": kind, "n": n,
                        "mean_delta_p": float(np.nanmean(delta[:, o])) if n else np.nan,
                        "ci_low": float(low[o]), "ci_high": float(high[o]),
                        "delta_p_given_a": float(np.nanmean(given_a[:, o])) if n else np.nan,
                        "given_a_low": float(g_low[o]), "given_a_high": float(g_high[o]),
                        "interaction": float(np.nanmean(interaction[:, o])) if n else np.nan,
                        "interaction_low": float(i_low[o]), "interaction_high": float(i_high[o]),
                        "mean_delta_logit": float(np.nanmean(delta_logit[:, o])) if n else np.nan})
    return out


def _pair_summary(rows: list[dict], a: str, b: str, kind: str) -> list[dict]:
    out = []
    for orientation in ("same", "opposite"):
        chosen = [r for r in rows if r["orientation"] == orientation and r["n"] > 0]
        if not chosen:
            continue
        best = max(chosen, key=lambda r: r["delta_p_given_a"])
        out.append({"motif_a": a, "motif_b": b, "background": kind, "orientation": orientation,
                    "strand_a": best["strand_a"], "offset_a": best["offset_a"], "best_offset_b": best["offset_b"],
                    **{k: best[k] for k in ("n", "mean_delta_p", "ci_low", "ci_high", "delta_p_given_a",
                                            "given_a_low", "given_a_high", "interaction", "interaction_low",
                                            "interaction_high")}})
    return out
