"""The Python API: the same steps as the command line, on in-memory sequences.

    import medna_interp as mi

    model = mi.load("model/demo")
    windows = mi.synthetic(600, seed=1)
    cad = mi.cad(model, windows.sequences, windows.labels)
    cad["kmer"].tokens.head()

Every function checks its inputs and raises :class:`medna_interp.MednaError` (a
``ValueError``) with a message naming the problem.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .core.device import resolve_device, seed_everything
from .core.errors import MednaError
from .core.outputs import claim_directory, provenance, step_outputs
from .data.io import SequenceSet, read_sequences
from .interpret.cad import CadResult, cad as _cad, write_cad
from .interpret.cwga import CwgaResult, cwga as _cwga, write_cwga
from .interpret.embed import STAGES, embed as embed_windows
from .interpret.selection import Selection, select_confident
from .models.checkpoint import from_pretrained
from .models.medna_dfm import MednaDFM
from .models.predict import predict_proba
from .motifs.discover import DatabaseChoice, discover as _discover
from .motifs.export import ExportOptions
from .motifs.motif import Motif
from .motifs.streme import StremeOptions
from .motifs.tomtom import Match, TomtomOptions
from .runs.checks import check_cad_options, check_cwga_options
from .runs.linear_source import write_linear_source

__all__ = ["load", "read", "synthetic", "windows", "predict", "select", "cad", "cwga", "discover", "report", "mutate",
           "insert", "pairs", "variant_effects", "embed", "ViewResult", "Explanation", "Discovery", "DiscoveredMotif"]


def load(path: str | os.PathLike, device: str = "auto", seed: int = 0, precision: str = "fp32") -> MednaDFM:
    """A checkpoint directory as a model in eval mode.

    Parameters
    ----------
    path : a checkpoint directory (``config.json``, ``model.safetensors``, tokenizers)
    device : ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``
    seed : seeds Python, NumPy and torch
    precision : ``fp32``, ``bf16`` or ``auto`` (bf16 where the device has it natively); every
        function given the model runs at it, and ``model.precision`` may be changed later
    """
    seed_everything(seed)
    return from_pretrained(path, resolve_device(device), precision)


def read(path: str | os.PathLike, negatives: str | os.PathLike | None = None, length: int | None = 41) -> SequenceSet:
    """Windows from an iDNA-MS TSV, FASTA or plain file (optionally gzipped); see :func:`medna_interp.io.read_sequences`."""
    return read_sequences(path, negatives=negatives, length=length)


def synthetic(n: int = 1000, seed: int = 0, grammar=None) -> SequenceSet:
    """``n`` labelled synthetic 41-bp windows with the demo's planted grammar (half positive)."""
    from .data.synth import Grammar, generate

    if n < 2:
        raise MednaError(f"need at least 2 windows, got {n}")
    rows, _ = generate(grammar or Grammar(), n, np.random.default_rng(seed), prefix="w")
    ids, labels, sequences = zip(*rows)
    return SequenceSet(list(ids), list(sequences), np.asarray(labels, dtype=np.int64), source="synthetic")


def windows(sequences: Sequence[str] | SequenceSet, labels: Sequence[int] | np.ndarray | None = None, *,
            need_both_classes: bool = False, least_per_class: int = 1, ids: Sequence[str] | None = None,
            model: MednaDFM | None = None) -> SequenceSet:
    """Check in-memory windows and wrap them as a :class:`SequenceSet`.

    Bases must be upper-case A/C/G/T (lower case, as in soft-masked genomes, and ``N``
    are refused rather than guessed at), all windows of one length (the model's, when
    ``model`` is given), labels 0/1 and as many as the windows.

    Raises
    ------
    MednaError : naming the first offending window, base and position
    """
    if isinstance(sequences, SequenceSet):
        data = sequences
        sequences, labels, ids = data.sequences, data.labels if labels is None else labels, data.ids
    sequences = list(sequences)
    if not sequences:
        raise MednaError("no sequences given")
    for index, sequence in enumerate(sequences):
        if not isinstance(sequence, str):
            raise MednaError(f"sequence {index} is a {type(sequence).__name__}, not a string")
        bad = next(((position, base) for position, base in enumerate(sequence) if base not in "ACGT"), None)
        if bad is not None:
            position, base = bad
            advice = " (lower case: upper-case soft-masked windows first)" if base in "acgt" else ""
            raise MednaError(f"sequence {index}: invalid base {base!r} at position {position + 1}; "
                             f"only A, C, G, T are allowed{advice}")
        if len(sequence) != len(sequences[0]):
            raise MednaError(f"sequence {index} has length {len(sequence)}, but sequence 0 has {len(sequences[0])}; "
                             "all windows must be equally long")
    if model is not None:
        model.require_length(len(sequences[0]), "sequences")
    array = None
    if labels is not None:
        array = np.asarray(labels)
        if array.shape != (len(sequences),):
            raise MednaError(f"labels have shape {array.shape}, expected ({len(sequences)},): one per sequence")
        if not np.isin(array, (0, 1)).all():
            raise MednaError(f"labels must be 0 or 1, got {sorted(set(array.tolist()) - {0, 1})[:3]}")
        array = array.astype(np.int64)
    if need_both_classes:
        if array is None:
            raise MednaError("labels are needed: 1 for modified windows, 0 for the others")
        for value, name in ((1, "positive (label 1)"), (0, "negative (label 0)")):
            count = int((array == value).sum())
            if count < least_per_class:
                raise MednaError(f"{count} {name} windows given; contrasting the classes needs at least "
                                 f"{least_per_class} of each")
    ids = [str(i) for i in (ids if ids is not None else range(len(sequences)))]
    if len(set(ids)) != len(ids):
        raise MednaError("window ids must be unique")
    return SequenceSet(ids, sequences, array, source="sequences")


def predict(model: MednaDFM, sequences: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """P(modified) of each window, shape (N,)."""
    data = windows(sequences, model=model)
    return predict_proba(model, data.sequences, batch_size)


def select(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], confidence: float = 0.9,
           max_per_class: int | None = None, batch_size: int = 64) -> Selection:
    """The correctly classified windows whose true-class probability exceeds ``confidence``.

    Returns
    -------
    Selection : ``data`` (the chosen windows, positives first), ``confidence`` and
        ``p_modified`` of shape (M,), ``source_index`` (M,) into the input, ``metrics``
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    if not 0 <= confidence < 1:
        raise MednaError(f"confidence must be in [0, 1), got {confidence}")
    return select_confident(model, data, confidence, max_per_class, batch_size=batch_size)


@dataclass(frozen=True)
class ViewResult:
    """One view's explanation.

    Attributes
    ----------
    method : ``cad`` or ``cwga``
    view : ``kmer`` or ``bpe``
    tokens : DataFrame, one row per token, sorted by its score (``cad`` or ``scaled_contribution``)
    per_base : np.ndarray, shape (M, L): each explained window's per-nucleotide score
    """

    method: str
    view: str
    tokens: pd.DataFrame
    per_base: np.ndarray


@dataclass(frozen=True)
class Explanation:
    """CAD or CWGA of a set of windows.

    Attributes
    ----------
    method : ``cad`` or ``cwga``
    views : view -> :class:`ViewResult`
    selection : the explained windows (high-confidence ones unless selection was off)
    data : every window given
    result : the full :class:`CadResult` or :class:`CwgaResult`
    options : the options used
    """

    method: str
    views: dict[str, ViewResult]
    selection: Selection
    data: SequenceSet
    result: CadResult | CwgaResult
    options: dict = field(default_factory=dict)

    def __getitem__(self, view: str) -> ViewResult:
        if view not in self.views:
            raise KeyError(f"no {view!r} view in this {self.method.upper()} result; views: {', '.join(self.views)}")
        return self.views[view]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the result as a run directory's files (what ``discover`` and the CLI read)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.method == "cad":
            self.selection.write(directory / "selection.tsv")
            write_cad(self.result, directory)
        else:
            self.selection.write(directory / "cwga_selection.tsv")
            write_cwga(self.result, directory, self.selection.data.ids, self.selection.labels)
        return directory


def _everything(data: SequenceSet, model: MednaDFM, batch_size: int) -> Selection:
    """All given windows as the 'selection' (when the caller chose them already)."""
    from .core.metrics import binary_metrics

    p = predict_proba(model, data.sequences, batch_size)
    labels = data.labels
    order = np.concatenate([np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)])
    true_class_p = np.where(labels == 1, p, 1 - p)
    correct = int(((p > 0.5) == (labels == 1)).sum())
    return Selection(data.subset(order), true_class_p[order], p[order], order, len(data), correct,
                     binary_metrics(labels, p).to_dict())


def cad(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, views: Sequence[str] = ("kmer", "bpe"),
        confidence: float = 0.9, select: bool = True, max_per_class: int | None = None, layer: int = -1,
        heads: Sequence[int] | None = None, min_samples: int = 3, per_sequence_mean: bool = False,
        batch_size: int = 64) -> Explanation:
    """Contrastive attention Cohen's d of each token (method.md section 4).

    Parameters
    ----------
    sequences, labels : N windows and their 0/1 labels
    select : explain only the correctly classified windows above ``confidence`` (the
        method's contrast); ``False`` explains every window given
    views, layer, heads, min_samples, per_sequence_mean : as ``medna-interp cad``

    Returns
    -------
    Explanation : ``result[view].tokens`` (token, cad, p_value, q_value, ...) and
        ``result[view].per_base``, shape (M, L)
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    check_cad_options(model, views, layer, heads, min_samples, confidence, max_per_class)
    selection = select_confident(model, data, confidence, max_per_class, batch_size=batch_size) if select \
        else _everything(data, model, batch_size)
    result = _cad(model, selection.data.sequences, selection.labels, views=views, layer=layer, heads=heads,
                  min_samples=min_samples, per_sequence_mean=per_sequence_mean, batch_size=batch_size)
    per_view = {view: ViewResult("cad", view, result.tokens[view], result.positional[view].per_base)
                for view in result.tokens}
    return Explanation("cad", per_view, selection, data, result, dict(result.options, confidence=confidence,
                                                                       select=select))


def cwga(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, views: Sequence[str] = ("kmer", "bpe"),
         top_dims: int = 40, n_samples: int = 100, confidence: float = 0.9, select: bool = True,
         dim_score: str = "activation", baseline: str | None = None, steps: int = 50, internal_batch_size: int = 128,
         min_count: int = 3, batch_size: int = 64, progress: bool = False) -> Explanation:
    """Contrastive weighted gradient attribution (Integrated Gradients over the top ``top_dims`` of h_mod).

    Parameters
    ----------
    sequences, labels : N windows and their 0/1 labels
    select : explain the ``n_samples`` most confident correct windows per class;
        ``False`` explains every window given
    top_dims, dim_score, baseline, steps, min_count : as ``medna-interp cwga``

    Returns
    -------
    Explanation : ``result[view].tokens`` (token, counts, contributions) and
        ``result[view].per_base``, shape (M, L), per-nucleotide attributions
    """
    data = windows(sequences, labels, need_both_classes=True, least_per_class=2, model=model)
    check_cwga_options(model, views, top_dims, n_samples, confidence, steps, internal_batch_size, min_count)
    selection = select_confident(model, data, confidence, n_samples, min_per_class=2, batch_size=batch_size) \
        if select else _everything(data, model, batch_size)
    result = _cwga(model, selection.data.sequences, selection.labels, views=views, top_dims=top_dims,
                   dim_score=dim_score, baseline=baseline, steps=steps, internal_batch_size=internal_batch_size,
                   batch_size=batch_size, min_count=min_count, progress=progress)
    per_view = {view: ViewResult("cwga", view, result.tokens[view], result.attributions[view].per_base)
                for view in result.tokens}
    return Explanation("cwga", per_view, selection, data, result, dict(result.options, confidence=confidence,
                                                                        select=select))


@dataclass(frozen=True)
class DiscoveredMotif:
    """A STREME motif with its database matches (best first).

    Attributes
    ----------
    source : ``cad_kmer``, ``cwga_bpe`` ... or ``raw``
    motif : :class:`Motif` (``pwm`` of shape (W, 4), consensus, E-value)
    matches : list of :class:`Match`, best (smallest p) first
    significant : STREME's held-out E-value is at most ``streme.thresh``
    named : significant, and the best match's E-value is at most ``tomtom.match_thresh``
    """

    source: str
    motif: Motif
    matches: list[Match]
    significant: bool = False
    named: bool = False

    @property
    def best_match(self) -> Match | None:
        return self.matches[0] if self.matches else None


@dataclass(frozen=True)
class Discovery:
    """Motifs of one or more explanations: ``motifs`` and the ``table`` of ``motifs.tsv``;
    ``directory`` holds every file (``None`` when a temporary one was used)."""

    motifs: list[DiscoveredMotif]
    table: pd.DataFrame
    directory: Path | None


def discover(*results: Explanation, output: str | os.PathLike | None = None, database: str | DatabaseChoice = "vertebrates",
             export_options: ExportOptions = ExportOptions(), streme: StremeOptions = StremeOptions(),
             tomtom: TomtomOptions = TomtomOptions(), raw_baseline: bool = False, meme_bin: str | None = None,
             backend: str = "meme", linear: bool = False) -> Discovery:
    """Export -> STREME -> TOMTOM for each view of each result.

    Parameters
    ----------
    results : one or more :class:`Explanation` (a CAD and a CWGA of the same windows)
    output : folder for every file (FASTA, STREME and TOMTOM outputs, logos); a
        temporary folder, removed afterwards, when ``None``
    database : a JASPAR tax group (``vertebrates``, ``insects``, ... or a comma list),
        a MEME-format file, or a :class:`DatabaseChoice`
    raw_baseline : also STREME all given positives against all given negatives
    backend : ``meme`` (TOMTOM binary) or ``memelite`` (numba TOMTOM, no compiler needed)
    linear : also a source from the position-specific linear baseline fitted on the windows

    Returns
    -------
    Discovery
    """
    if not results:
        raise MednaError("give at least one CAD or CWGA result")
    methods = [r.method for r in results]
    if len(set(methods)) != len(methods):
        raise MednaError("give at most one CAD and one CWGA result")
    if isinstance(database, str):
        database = DatabaseChoice(motif_db=database) if Path(database).is_file() else DatabaseChoice(tax=database)
    with tempfile.TemporaryDirectory(prefix="medna-discover-") as scratch:
        run_dir = Path(scratch) / "run"
        for result in results:
            result.save(run_dir)
        sources = [(r.method, view) for r in results for view in r.views]
        options = dict(export_options=export_options, streme=streme, tomtom=tomtom, database=database,
                       meme_bin=meme_bin, raw_baseline=raw_baseline, sources=sources, backend=backend,
                       linear=write_linear_source if linear else None)
        if output is None:
            found = _discover(run_dir, results[0].data, Path(scratch) / "motifs", **options)
        else:
            claim_directory(output, "motifs")
            record = provenance({"sources": sources, "database": database.describe(), "backend": backend,
                                 "export": asdict(export_options), "streme": asdict(streme),
                                 "tomtom": asdict(tomtom)}, {}, export_options.seed)
            with step_outputs(output, "discover", record, kind="motifs") as stage:
                found = _discover(run_dir, results[0].data, stage.path, **options)
    by_query: dict[str, list[Match]] = {}
    for match in sorted(found.matches, key=lambda m: m.pvalue):
        by_query.setdefault(match.query_id, []).append(match)
    flags = found.table.set_index("motif")[["significant", "named"]]
    motifs = [DiscoveredMotif(source, motif, by_query.get(motif.id, []), bool(flags.significant[motif.id]),
                              bool(flags.named[motif.id]))
              for source, group in found.motifs.items() for motif in group]
    return Discovery(motifs, found.table, Path(output) if output is not None else None)


def report(run_dir: str | os.PathLike):
    """Write ``report.html`` and ``report.json`` for a run directory; returns their paths (``.html``, ``.json``)."""
    from .reporting import write_report

    return write_report(run_dir)


def mutate(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], motifs: Sequence[str], *,
           flank: int = 3, bootstrap: int = 1000, seed: int = 0, batch_size: int = 64):
    """Mutate motifs in the positives and score every group (see :mod:`medna_interp.mutagenesis`).

    Parameters
    ----------
    motifs : IUPAC motifs, ``GAGG=CTCC`` for an explicit replacement, ``GAGG`` for a
        composition-preserving shuffle of the site and its flanks

    Returns
    -------
    MutagenesisResult : ``table`` (one row per group: SN, SP, ACC, MCC, AUC, AUPRC, changes
        with bootstrap intervals, Wilcoxon p) and the mutated ``windows`` of each group
    """
    from .causal.mutagenesis import MotifEdit, mutagenesis

    data = windows(sequences, labels, need_both_classes=True, model=model)
    return mutagenesis(model, data, [MotifEdit.parse(m) for m in motifs], flank=flank, bootstrap=bootstrap,
                       seed=seed, batch_size=batch_size)


def embed(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], *, stages: Sequence[str] | None = None,
          max_windows: int = 2000, n_neighbors: int = 15, min_dist: float = 0.1, color_by: str | None = None,
          seed: int = 0, batch_size: int = 64):
    """Features of the four processing stages, their UMAPs and separability numbers (see
    :mod:`medna_interp.embed`); ``color_by`` is an IUPAC string here (a run's motif names
    need ``medna-interp embed ... -o RUN``).

    Returns
    -------
    Embedding : ``ids``, ``labels``, ``features`` and ``coordinates`` per stage, ``numbers``
        (one row per stage), ``carriers`` of ``color_by``; draw it with
        :func:`medna_interp.embed.plot_embedding`
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    return embed_windows(model, data, stages=stages or STAGES, max_windows=max_windows, n_neighbors=n_neighbors,
                         min_dist=min_dist, color_by=color_by, seed=seed, batch_size=batch_size)


def insert(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int] | None, motifs: Sequence[str], *,
           background: str = "both", n_backgrounds: int = 200, strand: str = "both",
           offsets: tuple[int, int] | None = None, bootstrap: int = 1000, seed: int = 0, batch_size: int = 512):
    """Place each motif at every start and strand in background windows and score the change
    (see :mod:`medna_interp.insertion`).

    Parameters
    ----------
    sequences, labels : N windows of length L the backgrounds come from; negatives
        (label 0) are used as they are, any window is dinucleotide-shuffled (labels may be
        None with ``background="shuffled"``)
    motifs : IUPAC motifs, e.g. ``["GAGG", "AAAAA"]``
    background : ``shuffled``, ``negatives`` or ``both``
    offsets : (first, last) 0-based starts; default every start 0 .. L - W

    Returns
    -------
    InsertionResult : ``table`` with one row per motif (and control k-mer), strand, start
        and background: ``n`` backgrounds scored, ``skipped`` (placements that would change
        the centre base), ``mean_delta_p`` with its bootstrap 95 % interval
        (``ci_low``, ``ci_high``) and ``mean_delta_logit``; ``summary`` gives each motif's
        best start per background with the control k-mer placed there
    """
    from .causal.insertion import Placeable, insert as _insert

    data = windows(sequences, labels, model=model)
    return _insert(model, data, [Placeable.parse(m) for m in motifs], background=background,
                   n_backgrounds=n_backgrounds, strand=strand, offsets=offsets, bootstrap=bootstrap, seed=seed,
                   batch_size=batch_size)


def pairs(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int] | None, pair: tuple[str, str], *,
          background: str = "both", n_backgrounds: int = 200, bootstrap: int = 1000, seed: int = 0,
          batch_size: int = 512) -> pd.DataFrame:
    """Pair grammar: motif A at its best start, motif B swept over every start that does not
    overlap it, on A's strand (``same``) and the other (``opposite``).

    Parameters
    ----------
    pair : (A, B) IUPAC motifs, e.g. ``("GAGG", "AAAAA")``

    Returns
    -------
    DataFrame : one row per B start, orientation and background: ``mean_delta_p`` of A + B
        against the background with its 95 % interval, and ``interaction`` = (AB - bg) -
        (A - bg) - (B - bg) with ``interaction_low``/``interaction_high``; positive means
        the model wants both together
    """
    from .causal.insertion import Placeable, insert as _insert

    data = windows(sequences, labels, model=model)
    a, b = (Placeable.parse(m).name for m in pair)
    motifs = [Placeable.parse(m) for m in dict.fromkeys((a, b))]
    result = _insert(model, data, motifs, pairs=[(a, b)], background=background, n_backgrounds=n_backgrounds,
                     bootstrap=bootstrap, seed=seed, batch_size=batch_size)
    return result.pairs


def variant_effects(model: MednaDFM, sequences: Sequence[str], positions: Sequence[int], alts: Sequence[str], *,
                    ids: Sequence[str] | None = None, batch_size: int = 512) -> pd.DataFrame:
    """Single-base variants scored and ranked among all 3 L changes of their window.

    Parameters
    ----------
    sequences : V windows (one per variant; repeats are scored once)
    positions : V 1-based positions
    alts : V alternative bases (A/C/G/T, not the window's base)

    Returns
    -------
    DataFrame : one row per variant: ``p_ref``, ``p_alt``, ``delta_p``, ``delta_logit``,
        ``rank_by_drop`` (1 = the change that lowers the log-odds most), ``n_changes``
        (3 L) and ``rank_fraction``
    """
    from .causal.variants import Variant, variant_effects as _variant_effects

    data = windows(sequences, model=model)
    if not len(data.sequences) == len(positions) == len(alts):
        raise MednaError(f"{len(data.sequences)} windows, {len(positions)} positions and {len(alts)} alternative "
                         "bases: give one of each per variant")
    variants = []
    for i, (sequence, position, alt) in enumerate(zip(data.sequences, positions, alts)):
        alt = str(alt).upper()
        if not 1 <= int(position) <= len(sequence):
            raise MednaError(f"variant {i}: position {position} is outside the {len(sequence)}-base window (1-based)")
        if alt not in "ACGT" or len(alt) != 1 or alt == sequence[int(position) - 1]:
            raise MednaError(f"variant {i}: alt {alt!r} must be A, C, G or T and differ from the window's "
                             f"{sequence[int(position) - 1]}")
        variants.append(Variant(str(ids[i]) if ids is not None else str(i), sequence, int(position),
                                sequence[int(position) - 1], alt))
    return _variant_effects(model, variants, batch_size)
