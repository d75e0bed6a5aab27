"""``medna-interp motifs``: export -> STREME -> TOMTOM for every CAD/CWGA source of a run,
plus the raw baselines (STREME on all positives vs all negatives, and on each source's own
selected windows), then sites and logos; optionally the same again under permuted labels."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import MednaError
from ..io import SequenceSet, write_fasta
from .export import ExportOptions, available_sources, export, per_base_scores, permuted_run, selected_windows
from .jaspar import DEFAULT_RELEASE, jaspar_database, jaspar_url
from .logos import aligned_logo, logo_stem, enrichment_matrix, motif_logo, positional_logo, saliency_matrix
from .motif import Motif, read_meme
from .sites import scan_sites
from .streme import StremeOptions, run_streme
from .tomtom import BACKENDS, Match, TomtomOptions, best_matches, run_tomtom, run_tomtom_lite

MOTIF_COLUMNS = ["source", "motif", "consensus", "width", "sites", "evalue", "pvalue", "significant",
                 "best_match_id", "best_match_name", "best_match_p", "best_match_e", "best_match_q", "named",
                 "orientation", "frac_pos_with_site", "frac_neg_with_site", "note"]
SOURCE_COLUMNS = ["source", "kind", "windows", "n_primary", "n_control", "raw_baseline", "motifs", "significant",
                  "named", "best_p_uncorrected"]
RAW = "raw"
NULL = "null"
#: the per-window sources whose selected windows get a raw baseline of their own
_SELECTING = ("cad", "cwga", "ism", "linear")


@dataclass(frozen=True)
class DatabaseChoice:
    """JASPAR release/tax group(s), or the user's own MEME file (``motif_db``)."""

    release: str = DEFAULT_RELEASE
    tax: str = "vertebrates"
    motif_db: str | None = None

    def path(self) -> Path:
        return Path(self.motif_db) if self.motif_db else jaspar_database(self.release, self.tax)

    def describe(self) -> str:
        return self.motif_db or f"{self.release} CORE {self.tax}"


@dataclass
class MotifsResult:
    """Motifs of a run: ``table`` (``motifs.tsv``), every TOMTOM ``matches`` entry, the
    STREME ``motifs`` of each source (``cad_kmer``, ..., ``raw``), ``sources`` (``sources.tsv``:
    what each source compared and what it found) and, with ``permute_labels``, the same
    ``null_sources`` table for the label-permuted repeat."""
    table: pd.DataFrame
    matches: list[Match]
    motifs: dict[str, list[Motif]] = field(default_factory=dict)
    sources: pd.DataFrame | None = None
    null_sources: pd.DataFrame | None = None


class _Pass(NamedTuple):
    """What one pass of :func:`_discover_once` found, and where each source's files were read."""
    table: pd.DataFrame
    matches: list[Match]
    discovered: dict[str, list[Motif]]
    sources: pd.DataFrame
    where: dict


def discover(run_dir: str | os.PathLike, data: SequenceSet, output: str | os.PathLike, *,
             export_options: ExportOptions = ExportOptions(), streme: StremeOptions = StremeOptions(),
             tomtom: TomtomOptions = TomtomOptions(), database: DatabaseChoice = DatabaseChoice(),
             meme_bin: str | None = None, raw_baseline: bool = True, sources=None,
             shuffled_control: bool = False, backend: str = "meme", linear: bool = False,
             permute_labels: bool = False) -> MotifsResult:
    """Discover, name and locate motifs; writes everything under ``output`` (a folder).

    A motif is *significant* when STREME's held-out E-value is at most ``streme.thresh``;
    its best database match *names* it when the motif is significant and the match's
    E-value (p x the number of database motifs searched) is at most ``tomtom.match_thresh``.
    Besides raw STREME on all windows, each selecting source (CAD, CWGA, ...) gets a raw
    baseline on exactly its selected positives and negatives, whole windows, so that
    model-guided and raw discovery can be compared on the same sample.

    Parameters
    ----------
    run_dir : a run directory with CAD and/or CWGA outputs
    data : the labelled windows of the run (for the raw baselines and site scans)
    sources : (source, view) pairs; default every available one
    shuffled_control : STREME's shuffles of the primary sequences (``streme.order``-mer
        composition kept) as control for the model-guided sources, instead of the
        exported negatives
    backend : ``meme`` (the TOMTOM binary, ``tomtom.dist``) or ``memelite`` (numba
        TOMTOM, Euclidean distance; see :func:`run_tomtom_lite`)
    linear : also fit the position-specific linear baseline on ``data`` and use its
        per-base weights as a source (``linear_bases``), so that what the model finds
        beyond a linear model stands out
    permute_labels : repeat discovery under the null, into ``output/null``: the labels of
        the data and of every selection permuted (seeded by ``export_options.seed``), the
        windows and their scores kept (in ``tokens`` mode only the raw baselines: token
        tables are statistics of the true labels)
    """
    if backend not in BACKENDS:
        raise MednaError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    run_dir, output = Path(run_dir), Path(output)
    sources = list(sources) if sources is not None else available_sources(run_dir)
    if not sources and not raw_baseline:
        raise MednaError(f"{run_dir}: no CAD or CWGA outputs; run 'medna-interp cad' or 'cwga' first")
    db_path = database.path()
    database_motifs = {m.id: m for m in read_meme(db_path)}  # read once; fails before any STREME run
    settings = dict(export_options=export_options, streme=streme, tomtom=tomtom, db_path=db_path,
                    database_motifs=database_motifs, meme_bin=meme_bin, raw_baseline=raw_baseline,
                    shuffled_control=shuffled_control, backend=backend, linear=linear)
    found = _discover_once(run_dir, data, output, sources, draw=True, **settings)
    null = _discover_null(run_dir, data, output / NULL, sources, **settings) if permute_labels else None
    pd.DataFrame([m.to_dict() | {"url": jaspar_url(m.target_id) if not database.motif_db else ""}
                  for m in found.matches]).to_csv(output / "matches.tsv", sep="\t", index=False, float_format="%.4g")
    _positional_logos(found.where, data, output / "logos")
    distance = "ed (memelite)" if backend == "memelite" else tomtom.dist
    (output / "database.txt").write_text(database.describe() + f"\n{db_path}\nTOMTOM distance: {distance}\n")
    summary = {"database": database.describe(), "database_motifs": len(database_motifs),
               "max_evalue": streme.thresh, "match_thresh": tomtom.match_thresh,
               "null": {"seed": export_options.seed} if permute_labels else None}
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return MotifsResult(found.table, found.matches, found.discovered, found.sources,
                        null.sources if null else None)


def _discover_once(run_dir: Path, data: SequenceSet, output: Path, sources, *, export_options, streme, tomtom,
                   db_path, database_motifs, meme_bin, raw_baseline, shuffled_control, backend, linear,
                   draw: bool) -> _Pass:
    """One pass: every source and raw baseline through STREME and TOMTOM; writes ``motifs.tsv``
    and ``sources.tsv`` (and, with ``draw``, sites and logos) under ``output``."""
    discovered: dict[str, list[Motif]] = {}
    notes: dict[str, str] = {}
    described: dict[str, dict] = {}
    where = {pair: run_dir for pair in sources}
    if linear:
        from ..baseline import write_linear_source

        try:
            write_linear_source(data, output / "linear_model", export_options.seed)
            where[("linear", "bases")] = output / "linear_model"
            sources = [*sources, ("linear", "bases")]
        except MednaError as error:
            discovered["linear_bases"], notes["linear_bases"] = [], f"no linear source: {error}"
            described["linear_bases"] = {"kind": "model-guided", "windows": "none: the linear model selects none"}
    label_of, baselines = _matched_baselines(where, sources) if raw_baseline else ({}, {})
    for source, view in sources:
        label = f"{source}_{view}"
        folder = output / label
        described[label] = {"kind": "model-guided", "windows": f"{source.upper()}'s selection",
                            "raw_baseline": label_of.get(source, "")}
        if source in ("linear", "ism") and export_options.mode == "tokens":
            discovered[label], notes[label] = [], f"{source} scores bases, not tokens (use seqlets)"
            continue
        exported = export(where[(source, view)], source, view, folder, export_options, allow_empty=True)
        described[label].update(n_primary=exported.n_primary, n_control=exported.n_control)
        if exported.n_primary == 0:
            discovered[label], notes[label] = [], "nothing exported (no positive scores)"
            continue
        control = None if shuffled_control else exported.control
        result = run_streme(exported.primary, control, folder / "streme", streme, meme_bin)
        discovered[label] = _prefixed(result.motifs, label)
    if raw_baseline:
        labels = data.require_labels()
        windows = {RAW: ("all windows", pd.DataFrame({"id": data.ids, "label": labels, "sequence": data.sequences}))}
        windows.update({label: (f"the windows {' and '.join(who)} selected", frame)
                        for label, (who, frame) in baselines.items()})
        for label, (what, frame) in windows.items():
            folder = output / label
            primary, control = (frame[frame.label == value] for value in (1, 0))
            described[label] = {"kind": "raw baseline", "windows": what, "raw_baseline": "",
                                "n_primary": len(primary), "n_control": len(control)}
            if primary.empty or control.empty:
                discovered[label], notes[label] = [], "the windows hold only one class"
                continue
            write_fasta(folder / "primary.fa", list(zip(primary.id, primary.sequence)))
            write_fasta(folder / "control.fa", list(zip(control.id, control.sequence)))
            result = run_streme(folder / "primary.fa", folder / "control.fa", folder / "streme", streme, meme_bin)
            discovered[label] = _prefixed(result.motifs, label)

    every = [m for motifs in discovered.values() for m in motifs]
    names = {motif_id: motif.name for motif_id, motif in database_motifs.items()}
    if backend == "memelite":
        matches = run_tomtom_lite(every, list(database_motifs.values()), output / "tomtom", tomtom)
    else:
        matches = run_tomtom(every, db_path, output / "tomtom", tomtom, meme_bin, names=names)
    best = best_matches(matches)
    scan = scan_sites(every, data, output) if every and draw else None
    site_summary = scan.summary.set_index("motif") if scan is not None else None

    rows = []
    for label, motifs in discovered.items():
        if not motifs:
            rows.append({"source": label, "motif": "", "note": notes.get(label, "STREME found no motif")})
        for motif in motifs:
            match = best.get(motif.id)
            significant = motif.evalue is not None and motif.evalue <= streme.thresh
            named = bool(significant and match and match.evalue <= tomtom.match_thresh)
            summary = site_summary.loc[motif.id] if site_summary is not None else None
            rows.append({
                "source": label, "motif": motif.id, "consensus": motif.consensus, "width": motif.width,
                "sites": motif.nsites, "evalue": motif.evalue, "pvalue": motif.pvalue, "significant": significant,
                "best_match_id": match.target_id if match else "", "best_match_name": match.target_name if match else "",
                "best_match_p": match.pvalue if match else None, "best_match_e": match.evalue if match else None,
                "best_match_q": match.qvalue if match else None, "named": named,
                "orientation": match.orientation if match else "",
                "frac_pos_with_site": summary.frac_pos_with_site if summary is not None else None,
                "frac_neg_with_site": summary.frac_neg_with_site if summary is not None else None,
                "note": _note(significant, match, streme.thresh, tomtom.match_thresh),
            })
            if not draw:
                continue
            motif_logo(motif, output / "logos" / logo_stem(motif.id))
            if match and match.target_id in database_motifs:
                aligned_logo(motif, database_motifs[match.target_id], match.offset, match.orientation,
                             output / "logos" / f"{logo_stem(motif.id)}__{logo_stem(match.target_id)}",
                             title=f"TOMTOM p = {match.pvalue:.2g}, E = {match.evalue:.2g}")
    table = pd.DataFrame(rows, columns=MOTIF_COLUMNS)
    table.to_csv(output / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
    source_table = _source_table(table, described)
    source_table.to_csv(output / "sources.tsv", sep="\t", index=False, float_format="%.4g")
    if scan is not None:
        scan.sites.to_csv(output / "sites.tsv", sep="\t", index=False, float_format="%.4g")
        scan.positions.to_csv(output / "site_positions.tsv", sep="\t", index=False)
    (output / "scan.meme").unlink(missing_ok=True)
    return _Pass(table, matches, discovered, source_table, where)


def _note(significant: bool, match: Match | None, max_evalue: float, match_thresh: float) -> str:
    if not significant:
        return f"not significant (STREME E above {max_evalue:g})"
    if match is None:
        return "no database match at the TOMTOM threshold"
    if match.evalue > match_thresh:
        return f"best match E above {match_thresh:g}: not named"
    return ""


def _matched_baselines(where: dict, sources) -> tuple[dict[str, str], dict[str, tuple[list[str], pd.DataFrame]]]:
    """(selecting source -> the label of its raw baseline, label -> (the sources sharing those
    windows, the selection table)); sources that selected the same windows share one baseline."""
    label_of: dict[str, str] = {}
    baselines: dict[str, tuple[list[str], pd.DataFrame]] = {}
    by_windows: dict[tuple, str] = {}
    for source, view in sources:
        if source not in _SELECTING or source in label_of:
            continue
        frame = selected_windows(where[(source, view)], source)
        label = by_windows.setdefault(tuple(zip(frame.id, frame.label)), f"{RAW}_{source}_windows")
        baselines.setdefault(label, ([], frame))[0].append(source.upper())
        label_of[source] = label
    return label_of, baselines


def _source_table(table: pd.DataFrame, described: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for label, about in described.items():
        motifs = table[(table.source == label) & (table.motif != "")]
        matched = motifs.best_match_p.dropna()
        rows.append({"source": label, **about, "motifs": len(motifs), "significant": int(motifs.significant.sum()),
                     "named": int(motifs.named.sum()),
                     "best_p_uncorrected": float(matched.min()) if len(matched) else None})
    frame = pd.DataFrame(rows, columns=SOURCE_COLUMNS)
    frame[["n_primary", "n_control"]] = frame[["n_primary", "n_control"]].astype("Int64")
    return frame


def _discover_null(run_dir: Path, data: SequenceSet, output: Path, sources, **settings) -> _Pass:
    """:func:`_discover_once` on label-permuted windows and selections."""
    seed = settings["export_options"].seed
    labels = np.random.default_rng(seed).permutation(data.require_labels())
    permuted = dataclasses.replace(data, labels=labels, source=f"{data.source} (labels permuted, seed {seed})")
    if settings["export_options"].mode == "tokens":  # token tables are statistics of the true labels
        sources = []
    with tempfile.TemporaryDirectory(prefix="medna-null-") as scratch:
        shadow = permuted_run(run_dir, sources, Path(scratch), seed + 1)
        return _discover_once(shadow, permuted, output, sources, draw=False, **settings)


def _prefixed(motifs: list[Motif], label: str) -> list[Motif]:
    for motif in motifs:
        motif.id = f"{label}:{motif.id}"
    return motifs


def _positional_logos(where: dict, data: SequenceSet, folder: Path) -> None:
    labels = data.require_labels()
    positives = [s for s, y in zip(data.sequences, labels) if y == 1]
    negatives = [s for s, y in zip(data.sequences, labels) if y == 0]
    positional_logo(enrichment_matrix(positives, negatives), folder / "positional_raw",
                    "raw: positives vs negatives, f_pos log2(f_pos/f_neg)", "bits")
    for (source, view), run_dir in where.items():
        selection, scores = per_base_scores(run_dir, source, view)
        keep = selection.label.to_numpy() == 1
        matrix = saliency_matrix(list(selection.sequence[keep]), scores[keep])
        what = {"cad": "attention minus negatives' mean", "cwga": "attribution",
                "linear": "linear-model weight minus negatives' mean", "ism": "drop in log-odds"}[source]
        positional_logo(matrix, folder / f"positional_{source}_{view}",
                        f"{source.upper()} {view}: mean per-base {what} in positives", "score")
