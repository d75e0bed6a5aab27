"""From CAD/CWGA scores to FASTA files for motif discovery.

Modes
-----
tokens
    Top-scoring tokens as primary, the lowest-scoring as control (the authors' way).
seqlets
    Windows around the highest-scoring positions of each high-confidence positive as
    primary, and by the same rule (width, count per window, score floor) around the
    highest-scoring positions of each high-confidence negative as control. Target and
    control are drawn alike from the two classes, so under permuted labels they are
    exchangeable and a motif found must differ between the classes, not merely be where
    the model looks. Scores per base are CWGA attributions, ISM drops, or CAD attention
    (and linear weights) minus the mean over all selected windows at that position (raw
    attention has a positional shape shared by both classes).
sequences
    The whole selected positives vs the whole selected negatives.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance
from ..data.io import write_fasta

SOURCES = ("cad", "cwga", "linear", "ism")
MODES = ("tokens", "seqlets", "sequences")
_FILES = {
    "cad": {"table": "cad_{view}.tsv", "score": "cad", "selection": "selection.tsv",
            "arrays": "cad_positional.npz"},
    "cwga": {"table": "cwga_{view}.tsv", "score": "scaled_contribution", "selection": "cwga_selection.tsv",
             "arrays": "attributions.npz"},
    # the linear baseline (medna_interp.runs.linear_source.write_linear_source): per-position weights, no tokens
    "linear": {"table": "linear_weights.tsv", "score": "weight", "selection": "linear_selection.tsv",
               "arrays": "linear_attributions.npz"},
    # saturation mutagenesis (medna_interp.runs.explain.run_ism): per-base mean drop in log-odds
    "ism": {"table": "ism_positions.tsv", "score": "mean_drop_to_base", "selection": "ism_selection.tsv",
            "arrays": "ism.npz"},
}
#: the views of each source (per-base sources have one)
VIEWS = {"cad": ("kmer", "bpe"), "cwga": ("kmer", "bpe"), "linear": ("bases",), "ism": ("bases",)}


@dataclass(frozen=True)
class ExportOptions:
    """Defaults: 100 tokens a side; seqlets 12 bp wide, up to 2 per positive, score > 0."""

    mode: str = "seqlets"
    top_tokens: int = 100
    window: int = 12
    per_sequence: int = 2
    min_score: float = 0.0
    seed: int = 0

    def __post_init__(self):
        if self.mode not in MODES:
            raise MednaError(f"export mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        for name, least in (("top_tokens", 1), ("window", 3), ("per_sequence", 1)):
            if getattr(self, name) < least:
                raise MednaError(f"export {name} must be at least {least}, got {getattr(self, name)}")
        if not np.isfinite(self.min_score):
            raise MednaError(f"export min_score must be a finite number, got {self.min_score}")


@dataclass
class Export:
    """Where an export wrote its primary and control FASTA files, and how many sequences each holds."""
    source: str
    view: str
    mode: str
    primary: Path
    control: Path
    n_primary: int
    n_control: int


def available_sources(run_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """(source, view) pairs whose outputs exist in ``run_dir``."""
    run_dir = Path(run_dir)
    return [(s, v) for s in SOURCES if s != "linear" for v in VIEWS[s]
            if (run_dir / _FILES[s]["table"].format(view=v)).exists()]


def permuted_run(run_dir: Path, sources, folder: Path, seed: int) -> Path:
    """A copy of ``run_dir`` as far as ``sources`` read it, with the labels of each
    selection table permuted (seeded): the same windows and scores, no class contrast.
    Score tables and arrays are linked, not copied."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for source in dict.fromkeys(source for source, _ in sources):
        files = _FILES[source]
        selection = selected_windows(run_dir, source)
        selection["label"] = rng.permutation(selection.label.to_numpy())
        selection.to_csv(folder / files["selection"], sep="\t", index=False)
        linked = [files["arrays"], *(files["table"].format(view=view) for view in VIEWS[source])]
        for name in linked:
            if (run_dir / name).exists() and not (folder / name).exists():
                (folder / name).symlink_to((run_dir / name).resolve())
    return folder


def selected_windows(run_dir: Path, source: str) -> pd.DataFrame:
    """The selection table a source's scores belong to (id, label, sequence, ...)."""
    path = run_dir / _FILES[source]["selection"]
    if not path.exists():
        raise MednaError(f"{run_dir}: {path.name} is missing; run 'medna-interp {source}' first")
    return pd.read_csv(path, sep="\t", dtype={"id": str}, keep_default_na=False)


def per_base_scores(run_dir: Path, source: str, view: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The selection table and its per-base scores, shape (M, length), for a source and view."""
    files = _FILES[source]
    arrays_path = run_dir / files["arrays"]
    selection = selected_windows(run_dir, source)
    if not arrays_path.exists():
        raise MednaError(f"{run_dir}: {arrays_path.name} is missing; run 'medna-interp {source}' first")
    arrays = np.load(arrays_path)
    key = f"{view}_per_base"
    if key not in arrays:
        raise MednaError(f"{arrays_path}: no {view} view", hint=f"rerun 'medna-interp {source} --view {view}'")
    scores = arrays[key]
    if source in ("cad", "linear"):
        # every window gets this positional shape; the mean over both classes removes it
        # without favouring either (the negatives' mean alone would, and a null would find it)
        scores = scores - scores.mean(0, keepdims=True)
    return selection, scores


def source_files(run_dir: Path, source: str, view: str) -> list[Path]:
    """The files a source's view is read from: its table, its selection and its arrays."""
    return [run_dir / _FILES[source][key].format(view=view) for key in ("table", "selection", "arrays")]


def hypothetical_scores(run_dir: Path, source: str) -> np.ndarray | None:
    """What each base would contribute at each position, shape (M, L, 4), where the source
    measures it: ISM's change in log-odds for each base, centred on the mean over the four
    bases. None for sources with one score per base."""
    if source != "ism":
        return None
    path = run_dir / _FILES["ism"]["arrays"]
    with np.load(path) as arrays:
        if "delta" not in arrays:
            raise MednaError(f"{path}: no per-base changes ('delta')", hint="rerun 'medna-interp ism'")
        delta = arrays["delta"]
    return delta - delta.mean(axis=2, keepdims=True)


def export(run_dir: str | os.PathLike, source: str, view: str, output: str | os.PathLike,
           options: ExportOptions = ExportOptions(), *, allow_empty: bool = False, force: bool = False) -> Export:
    """Write ``primary.fa`` and ``control.fa`` under ``output`` for one source and view.

    Parameters
    ----------
    run_dir : a run directory with the source's outputs
    source, view : ``cad`` or ``cwga``; ``kmer`` or ``bpe``
    output : a new folder, or an export folder of ours
    allow_empty : write empty files when nothing passes the options instead of failing
    force : write into a folder that is not one of ours (only the two FASTA files are replaced)

    Returns
    -------
    Export : the two files and how many sequences each holds
    """
    if source not in SOURCES:
        raise MednaError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if view not in VIEWS[source]:
        raise MednaError(f"view {view!r} does not exist for source {source}; it has {', '.join(VIEWS[source])}")
    if source in ("linear", "ism") and options.mode == "tokens":
        raise MednaError(f"{source} scores bases, not tokens; export it as seqlets or sequences")
    run_dir, output = Path(run_dir), Path(output)
    read = source_files(run_dir, source, view)
    claim_directory(output, "export", inputs=read, force=force)
    if options.mode == "tokens":
        primary, control = _tokens(run_dir, source, view, options)
    elif options.mode == "seqlets":
        primary, control = _seqlets(run_dir, source, view, options)
    else:
        selection, _ = per_base_scores(run_dir, source, view)
        primary = [(f"{r.id} p_modified={r.p_modified:.4f}", r.sequence) for r in selection.itertuples() if r.label == 1]
        control = [(f"{r.id} p_modified={r.p_modified:.4f}", r.sequence) for r in selection.itertuples() if r.label == 0]
    if not primary and not allow_empty:
        raise MednaError(f"{run_dir}: no {source} {view} {options.mode} pass the export options "
                         f"(min_score {options.min_score}); nothing was written")
    record = provenance({"source": source, "view": view, **asdict(options)},
                        {p.name: p for p in read if p.exists()}, options.seed)
    with step_outputs(output, "export", record, kind="export") as stage:
        write_fasta(stage.path / "primary.fa", primary)
        write_fasta(stage.path / "control.fa", control)
    return Export(source, view, options.mode, output / "primary.fa", output / "control.fa", len(primary), len(control))


def _tokens(run_dir: Path, source: str, view: str, options: ExportOptions):
    path = run_dir / _FILES[source]["table"].format(view=view)
    if not path.exists():
        raise MednaError(f"{run_dir}: {path.name} is missing",
                         hint=f"run 'medna-interp {source} --view {view}' first")
    table = pd.read_csv(path, sep="\t", keep_default_na=False)
    column = _FILES[source]["score"]
    ranked = table.sort_values(column, ascending=False)
    top = ranked[ranked[column] > 0].head(options.top_tokens)
    bottom = ranked.iloc[::-1]
    bottom = bottom[~bottom.token.isin(top.token)].head(options.top_tokens)
    to_records = lambda rows: [(f"{t}_{i} score={s:.4g}", t) for i, (t, s) in enumerate(zip(rows.token, rows[column]))]
    return to_records(top), to_records(bottom)


def _seqlets(run_dir: Path, source: str, view: str, options: ExportOptions):
    selection, scores = per_base_scores(run_dir, source, view)
    labels = selection.label.to_numpy()
    if not (labels == 0).any():
        raise MednaError(f"{run_dir}: the selection has no negatives to draw control seqlets from")
    primary = _class_seqlets(selection, scores, labels == 1, options)
    control = _class_seqlets(selection, scores, labels == 0, options)
    return primary, control


def _class_seqlets(selection: pd.DataFrame, scores: np.ndarray, rows: np.ndarray,
                   options: ExportOptions) -> list[tuple[str, str]]:
    """Seqlets around each chosen window's own score peaks (:func:`_peaks`)."""
    length = scores.shape[1]
    width = min(options.window, length)
    seqlets = []
    for i in np.flatnonzero(rows):
        for centre in _peaks(scores[i], width, options.per_sequence, options.min_score):
            start = int(np.clip(centre - width // 2, 0, length - width))
            seqlets.append((f"{selection.id.iloc[i]}:{start + 1}-{start + width} score={scores[i, centre]:.4g} "
                            f"centre={centre + 1}", selection.sequence.iloc[i][start:start + width]))
    return seqlets


def _peaks(values: np.ndarray, width: int, count: int, min_score: float) -> list[int]:
    """Up to ``count`` highest positions above ``min_score``, at least width/2 apart."""
    chosen: list[int] = []
    for position in np.argsort(-values, kind="stable"):
        if values[position] <= min_score or len(chosen) >= count:
            break
        if all(abs(position - c) >= width // 2 for c in chosen):
            chosen.append(int(position))
    return chosen
