"""In-silico mutagenesis of named motifs (the paper's Fig. 7 experiment, for any motif).

Every occurrence of a motif in every *positive* window is replaced, either by an explicit
sequence of the same length or by a shuffle of the site and its flanks that keeps the
window's base composition exactly and leaves no occurrence behind. Negatives are never
touched, so specificity cannot change. Each group (wild type, each motif alone, all
together) is scored by the model; changes against wild type come with paired bootstrap
intervals and a Wilcoxon signed-rank test on the per-window change in P(modified).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..core.errors import MednaError
from ..core.metrics import binary_metrics
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance
from ..core.sequence import IUPAC, base_fractions, iupac_pattern
from ..data.io import SequenceSet
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba

METRICS = ("sn", "sp", "acc", "mcc", "auc", "auprc")
WILD_TYPE, ALL = "wild_type", "all"


@dataclass(frozen=True)
class MotifEdit:
    """A motif (IUPAC) and what replaces it: ``replacement`` of the same length, or ``None``
    for a composition-preserving shuffle of the site and its flanks."""

    pattern: str
    replacement: str | None = None

    @property
    def name(self) -> str:
        return self.pattern if self.replacement is None else f"{self.pattern}={self.replacement}"

    @classmethod
    def parse(cls, text: str) -> "MotifEdit":
        """``GAGG=CTCC`` or ``GAGG`` (upper or lower case)."""
        motif, _, replacement = text.strip().upper().partition("=")
        pattern = iupac_pattern(motif, text)
        if replacement:
            if len(replacement) != len(pattern):
                raise MednaError(f"motif {text!r}: the replacement has {len(replacement)} bases, the motif "
                                 f"{len(pattern)}; they must be equally long")
            if any(c not in "ACGT" for c in replacement):
                raise MednaError(f"motif {text!r}: the replacement must be written in A, C, G, T")
        elif "=" in text:
            raise MednaError(f"motif {text!r}: nothing after '='; give a replacement or leave '=' out to shuffle")
        return cls(pattern, replacement or None)

    def regex(self) -> re.Pattern:
        """Overlapping occurrences: a lookahead over the IUPAC classes."""
        return re.compile("(?=(" + "".join(f"[{IUPAC[c]}]" for c in self.pattern) + "))")

    def sites(self, sequence: str) -> list[int]:
        """0-based starts of every (overlapping) occurrence."""
        return [m.start() for m in self.regex().finditer(sequence)]


def _substitute(sequence: str, edit: MotifEdit) -> tuple[str, int, bool]:
    """Replace occurrences left to right, each after the last replaced block, and repeat
    while a replacement uncovers a new one; returns (sequence, sites replaced, success)."""
    width, count, pattern = len(edit.pattern), 0, edit.regex()
    for _ in range(len(sequence)):
        position, replaced = 0, False
        while (match := pattern.search(sequence, position)) is not None:
            start = match.start()
            sequence = sequence[:start] + edit.replacement + sequence[start + width:]
            position, count, replaced = start + width, count + 1, True
        if not replaced:
            return sequence, count, True
    return sequence, count, not edit.sites(sequence)


def _shuffle_positions(sequence: str, positions: list[int], rng: np.random.Generator, tries: int,
                       accept) -> tuple[str, bool]:
    """Permute the bases at ``positions`` (the window's composition is kept) until
    ``accept(candidate)``; returns the last candidate and whether it was accepted."""
    letters = np.array(list(sequence))
    candidate = sequence
    for _ in range(tries):
        letters[positions] = rng.permutation(letters[positions])
        candidate = "".join(letters)
        if accept(candidate):
            return candidate, True
    return candidate, False


def _shuffle(sequence: str, edit: MotifEdit, flank: int, rng: np.random.Generator,
             tries: int) -> tuple[str, int, bool]:
    """Shuffle the bases of every site and its flanks (together) until the motif is gone."""
    starts = edit.sites(sequence)
    if not starts:
        return sequence, 0, True
    positions = sorted({p for s in starts for p in range(max(0, s - flank), min(len(sequence), s + len(edit.pattern) + flank))})
    candidate, ok = _shuffle_positions(sequence, positions, rng, tries, lambda c: not edit.sites(c))
    return (candidate if ok else sequence), len(starts), ok


def mutate_windows(sequences: list[str], edits: list[MotifEdit], *, flank: int = 3, seed: int = 0,
                   tries: int = 200) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Apply every edit in turn to every window.

    Returns
    -------
    (sequences, sites, failed) : the mutated windows, the number of sites edited per
        window (N,), and whether some motif could not be removed from it (N,) (such a
        window keeps its last successful state)
    """
    rng = np.random.default_rng(seed)
    out, sites, failed = [], np.zeros(len(sequences), int), np.zeros(len(sequences), bool)
    for i, sequence in enumerate(sequences):
        for edit in edits:
            if edit.replacement is not None:
                sequence, count, ok = _substitute(sequence, edit)
            else:
                sequence, count, ok = _shuffle(sequence, edit, flank, rng, tries)
            sites[i] += count
            failed[i] |= not ok
        out.append(sequence)
    return out, sites, failed


class _Bootstrap:
    """Paired bootstrap: the same resamples of windows for wild type and every group, so
    each interval is of mutant minus wild type on identical windows."""

    def __init__(self, labels: np.ndarray, p_wild: np.ndarray, n: int, seed: int):
        rng = np.random.default_rng(seed)
        draws = (rng.integers(0, len(labels), len(labels)) for _ in range(n))
        self.labels = labels
        self.samples = [index for index in draws if len(set(labels[index].tolist())) == 2]
        self.wild = [binary_metrics(labels[index], p_wild[index]) for index in self.samples]

    def intervals(self, p_mutant: np.ndarray) -> dict[str, tuple[float, float]]:
        """metric -> (2.5, 97.5) percentiles of mutant - wild type."""
        deltas = {metric: [] for metric in METRICS}
        for index, wild in zip(self.samples, self.wild):
            mutant = binary_metrics(self.labels[index], p_mutant[index])
            for metric in METRICS:
                x, y = getattr(wild, metric), getattr(mutant, metric)
                if x is not None and y is not None:
                    deltas[metric].append(y - x)
        return {m: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) if v else (np.nan, np.nan)
                for m, v in deltas.items()}


@dataclass(frozen=True)
class MutagenesisResult:
    """``table``: one row per group (metrics, changes, intervals, Wilcoxon p); ``windows``:
    group -> DataFrame of the mutated positives (id, sequence, p_wild_type, p_mutant, sites)."""

    table: pd.DataFrame
    windows: dict[str, pd.DataFrame]
    options: dict


def mutagenesis(model: MednaDFM, data: SequenceSet, edits: list[MotifEdit], *, flank: int = 3,
                bootstrap: int = 1000, seed: int = 0, batch_size: int = 64, tries: int = 200) -> MutagenesisResult:
    """Mutate the motifs in the positives of ``data``, group by group, and score every group.

    Parameters
    ----------
    data : labelled windows (positives are mutated, negatives kept)
    edits : the motifs; groups are each alone and, with several, all together
    flank : bases either side of a site shuffled with it (shuffle mode)
    bootstrap : paired bootstrap resamples for the 95 % intervals (0: none)

    Returns
    -------
    MutagenesisResult
    """
    labels = data.require_labels()
    if not edits:
        raise MednaError("give at least one motif to mutate")
    if flank < 0 or bootstrap < 0:
        raise MednaError("flank and bootstrap must not be negative")
    positives = np.flatnonzero(labels == 1)
    if len(positives) == 0 or len(positives) == len(labels):
        raise MednaError(f"{data.source}: mutagenesis needs positives and negatives")
    for edit in edits:
        if not any(edit.sites(data.sequences[i]) for i in positives):
            raise MednaError(f"{data.source}: no positive window carries the motif {edit.pattern}")
    p_wt = predict_proba(model, data.sequences, batch_size)
    wild = binary_metrics(labels, p_wt).to_dict()
    groups = [(edit.name, [edit]) for edit in edits] + ([(ALL, list(edits))] if len(edits) > 1 else [])
    rows = [{"group": WILD_TYPE, "windows_mutated": 0, "sites_mutated": 0, "windows_failed": 0,
             **{m: wild[m] for m in METRICS}}]
    windows = {}
    base_composition = base_fractions([data.sequences[i] for i in positives])
    resamples = _Bootstrap(labels, p_wt, bootstrap, seed) if bootstrap else None
    for number, (name, group_edits) in enumerate(groups):
        mutated, sites, failed = mutate_windows([data.sequences[i] for i in positives], group_edits, flank=flank,
                                                seed=seed + number, tries=tries)
        sequences = list(data.sequences)
        for i, sequence in zip(positives, mutated):
            sequences[i] = sequence
        changed = np.flatnonzero(sites > 0)
        p_mut = p_wt.copy()
        p_mut[positives[changed]] = predict_proba(model, [mutated[j] for j in changed], batch_size)
        metrics = binary_metrics(labels, p_mut).to_dict()
        delta_p = p_mut[positives[changed]] - p_wt[positives[changed]]
        wilcoxon = stats.wilcoxon(delta_p).pvalue if len(delta_p) and np.any(delta_p != 0) else 1.0
        intervals = resamples.intervals(p_mut) if resamples else {}
        after = base_fractions(mutated)
        row = {"group": name, "windows_mutated": int(len(changed)), "sites_mutated": int(sites.sum()),
               "windows_failed": int(failed.sum()), **{m: metrics[m] for m in METRICS}}
        for m in METRICS:
            row[f"delta_{m}"] = metrics[m] - wild[m] if metrics[m] is not None and wild[m] is not None else None
            if intervals:
                row[f"delta_{m}_low"], row[f"delta_{m}_high"] = intervals[m]
        row.update({"mean_delta_p": float(delta_p.mean()) if len(delta_p) else 0.0,
                    "median_delta_p": float(np.median(delta_p)) if len(delta_p) else 0.0,
                    "wilcoxon_p": float(wilcoxon),
                    **{f"delta_frac_{b}": after[b] - base_composition[b] for b in "ACGT"}})
        rows.append(row)
        windows[name] = pd.DataFrame({"id": [data.ids[i] for i in positives], "sequence": mutated,
                                      "wild_type": [data.sequences[i] for i in positives],
                                      "p_wild_type": p_wt[positives], "p_mutant": p_mut[positives],
                                      "sites": sites, "failed": failed})
    options = {"motifs": [asdict(e) for e in edits], "flank": flank, "bootstrap": bootstrap, "seed": seed,
               "tries": tries}
    return MutagenesisResult(pd.DataFrame(rows), windows, options)


def _figure(table: pd.DataFrame, stem: Path) -> None:
    from ..core.figures import plt, save_figure

    figure, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.6 * len(table) + 3), 3.4))
    x = np.arange(len(table))
    for axis, metrics in zip(axes, (("sn", "sp"), ("acc", "auc", "mcc"))):
        width = 0.8 / len(metrics)
        for k, metric in enumerate(metrics):
            axis.bar(x + (k - (len(metrics) - 1) / 2) * width, table[metric].astype(float), width,
                     label=metric.upper())
        axis.set_xticks(x, table.group, rotation=20, ha="right", fontsize=8)
        lowest = float(np.nanmin(table[list(metrics)].astype(float).to_numpy()))
        axis.set_ylim(min(0.0, lowest - 0.05), 1.0)
        axis.axhline(0, color="black", lw=0.6)
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0].set_title("SN / SP per group", fontsize=9)
    axes[1].set_title("ACC / AUC / MCC per group", fontsize=9)
    figure.tight_layout()
    save_figure(figure, stem)


def write_mutagenesis(result: MutagenesisResult, output: str | os.PathLike, record: dict) -> Path:
    """``mutagenesis.tsv``/``.json``, ``mutagenesis.png``/``.svg`` and ``mutated_<group>.tsv`` in ``output``."""
    with step_outputs(output, "mutate", record, kind="mutagenesis") as stage:
        result.table.to_csv(stage.path / "mutagenesis.tsv", sep="\t", index=False, float_format="%.6g")
        (stage.path / "mutagenesis.json").write_text(json.dumps(
            {"options": result.options, "groups": json.loads(result.table.to_json(orient="records"))}, indent=2) + "\n")
        _figure(result.table, stage.path / "mutagenesis")
        for name, frame in result.windows.items():
            safe = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
            frame.to_csv(stage.path / f"mutated_{safe}.tsv", sep="\t", index=False, float_format="%.6g")
    return Path(output)


def run_mutagenesis(checkpoint: str | os.PathLike, data_path: str | os.PathLike, output: str | os.PathLike,
                    motifs: list[str], *, flank: int = 3, bootstrap: int = 1000, common=None,
                    force: bool = False) -> MutagenesisResult:
    """``medna-interp mutate``: check everything, mutate, score and write ``output``."""
    from ..core.settings import Common, input_paths
    from ..models.loading import load_checkpoint
    from ..data.io import load_data

    common = common or Common()
    edits = [MotifEdit.parse(text) for text in motifs]  # before anything is read
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(output, "mutagenesis", inputs=paths.values(), force=force)
    model = load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    result = mutagenesis(model, data, edits, flank=flank, bootstrap=bootstrap, seed=common.seed,
                         batch_size=common.batch_size)
    write_mutagenesis(result, output, provenance({**result.options, "precision": model.precision}, paths, common.seed))
    return result


EFFECT_COLUMNS = ["motif", "source", "consensus", "windows_with_site", "mean_delta_p", "median_delta_p",
                  "wilcoxon_p", "q_value", "delta_sn", "delta_auc"]


def motif_effects(model: MednaDFM, data: SequenceSet, motifs: pd.DataFrame, sites: pd.DataFrame, *,
                  flank: int = 3, seed: int = 0, batch_size: int = 64, tries: int = 20) -> pd.DataFrame:
    """The causal effect of every discovered motif: its FIMO sites in the positives are
    shuffled (with ``flank`` bases either side, composition kept) and the model rescored.

    Parameters
    ----------
    motifs : rows of ``motifs.tsv`` (motif, source, consensus)
    sites : rows of ``sites.tsv`` (motif, id, label, start, end; 1-based, inclusive)

    Returns
    -------
    DataFrame with :data:`EFFECT_COLUMNS`, one row per motif, the strongest loss of
    P(modified) first; ``q_value`` is Benjamini-Hochberg over the motifs' Wilcoxon p
    """
    from ..core.stats import benjamini_hochberg

    labels = data.require_labels()
    p_wt = predict_proba(model, data.sequences, batch_size)
    wild = binary_metrics(labels, p_wt)
    row_of = {ident: i for i, ident in enumerate(data.ids)}
    rng = np.random.default_rng(seed)
    rows = []
    for motif in motifs.itertuples():
        hits = sites[(sites.motif == motif.motif) & (sites.label == 1)]
        regions: dict[int, set[int]] = {}
        for hit in hits.itertuples():
            if hit.id in row_of:
                regions.setdefault(row_of[hit.id], set()).update(
                    range(max(0, int(hit.start) - 1 - flank), min(data.length, int(hit.end) + flank)))
        consensus = MotifEdit(motif.consensus) if isinstance(motif.consensus, str) and motif.consensus else None
        changed, mutated = [], []
        for index, positions in regions.items():
            positions = sorted(positions)
            # a shuffle that rebuilds the consensus inside the region is drawn again (up to ``tries``)
            candidate, _ = _shuffle_positions(
                data.sequences[index], positions, rng, tries,
                lambda c: consensus is None or not any(positions[0] <= s <= positions[-1] for s in consensus.sites(c)))
            changed.append(index)
            mutated.append(candidate)
        row = {"motif": motif.motif, "source": motif.source, "consensus": motif.consensus,
               "windows_with_site": len(changed), "mean_delta_p": 0.0, "median_delta_p": 0.0, "wilcoxon_p": 1.0,
               "delta_sn": 0.0, "delta_auc": 0.0}
        if changed:
            p_mut = p_wt.copy()
            p_mut[changed] = predict_proba(model, mutated, batch_size)
            delta = p_mut[changed] - p_wt[changed]
            after = binary_metrics(labels, p_mut)
            row.update(mean_delta_p=float(delta.mean()), median_delta_p=float(np.median(delta)),
                       wilcoxon_p=float(stats.wilcoxon(delta).pvalue) if np.any(delta != 0) else 1.0,
                       delta_sn=after.sn - wild.sn, delta_auc=after.auc - wild.auc)
        rows.append(row)
    table = pd.DataFrame(rows, columns=EFFECT_COLUMNS[:7] + EFFECT_COLUMNS[8:])
    table.insert(7, "q_value", benjamini_hochberg(table.wilcoxon_p.to_numpy()) if len(table) else [])
    return table.sort_values(["mean_delta_p", "q_value"], kind="stable").reset_index(drop=True)
