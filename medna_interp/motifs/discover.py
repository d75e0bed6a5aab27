"""``medna-interp motifs``: export -> STREME -> TOMTOM for every CAD/CWGA source of a run,
plus the raw baselines (STREME on all positives vs all negatives, and on each source's own
selected windows), then sites and logos; optionally the same again under permuted labels."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from ..core.errors import MednaError
from ..data.io import SequenceSet, write_fasta
from .calibration import judge_sources
from .controls import (check_controls, composition_check, controls_for, describe_matching,
                       matched_negatives)
from .export import ExportOptions, available_sources, export, per_base_scores, permuted_run, selected_windows
from .jaspar import DEFAULT_RELEASE, jaspar_database, jaspar_url
from .logos import aligned_logo, contribution_logo, logo_stem, enrichment_matrix, motif_logo, positional_logo, saliency_matrix
from .modisco import INPUTS as MODISCO_INPUTS, ModiscoOptions, modisco_source, require_modisco
from .motif import Motif, read_meme
from .sites import scan_sites
from .streme import StremeOptions, run_streme
from .tomtom import BACKENDS, Match, TomtomOptions, best_matches, run_tomtom, run_tomtom_lite

MOTIF_COLUMNS = ["source", "motif", "consensus", "width", "sites", "evalue", "run_evalue", "pvalue", "significant",
                 "best_match_id", "best_match_name", "best_match_p", "best_match_e", "best_match_q", "named",
                 "orientation", "frac_pos_with_site", "frac_neg_with_site", "frac_matched_with_site", "composition_p",
                 "composition", "discovery", "note"]
SOURCE_COLUMNS = ["source", "kind", "windows", "n_primary", "n_control", "controls", "raw_baseline", "motifs",
                  "significant", "named", "best_p_uncorrected", "seconds", "null_significant", "null_check"]
RAW = "raw"
NULL = "null"
#: STREME stops with an error on fewer primary (or control) sequences than this
_FEWEST = 2
#: the per-window sources whose selected windows get a raw baseline of their own
_SELECTING = ("cad", "cwga", "ism", "linear")


#: writes a linear model's source files into a folder: (windows, folder, seed) -> its summary
LinearSource = Callable[[SequenceSet, Path, int], dict]


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
    searches: int


def discover(run_dir: str | os.PathLike, data: SequenceSet, output: str | os.PathLike, *,
             export_options: ExportOptions = ExportOptions(), streme: StremeOptions = StremeOptions(),
             tomtom: TomtomOptions = TomtomOptions(), database: DatabaseChoice = DatabaseChoice(),
             meme_bin: str | None = None, raw_baseline: bool = True, sources=None,
             controls: str = "negatives", match_cpg: bool = False, backend: str = "meme",
             linear: LinearSource | None = None, permute_labels: bool = True,
             modisco: ModiscoOptions | None = None) -> MotifsResult:
    """Discover, name and locate motifs; writes everything under ``output`` (a folder).

    A motif is *significant* when its run E-value (STREME's held-out E-value times the
    number of searches in the run, ``run_evalue``; see :class:`StremeOptions`) is at most
    ``streme.thresh``;
    its best database match *names* it when the motif is significant and the match's
    E-value (p x the number of database motifs searched) is at most ``tomtom.match_thresh``.
    It is a *discovery* when it is significant and its source is calibrated: the same
    source, run again with the labels permuted, found no significant motif (a source
    that finds motifs in noise is marked "not calibrated" in ``sources.tsv``, and none of
    its motifs is a discovery).
    Besides raw STREME on all windows, each selecting source (CAD, CWGA, ...) gets a raw
    baseline on exactly its selected positives and negatives, whole windows, so that
    model-guided and raw discovery can be compared on the same sample.

    Parameters
    ----------
    run_dir : a run directory with CAD and/or CWGA outputs
    data : the labelled windows of the run (for the raw baselines and site scans)
    sources : (source, view) pairs; default every available one
    controls : what every STREME run contrasts its primaries with: ``negatives`` (the
        exported negatives, or the negative windows for raw baselines), ``shuffled``
        (STREME's shuffles of the primaries, ``streme.order``-mer composition kept) or
        ``matched`` (negatives drawn to the primaries' GC distribution,
        :func:`medna_interp.data.composition.match_controls`; ``matching.tsv`` in each source's
        folder says how well). With ``matched``, too few negatives to match the data's
        positives is an error before any STREME run; a source whose own negatives cannot be
        matched is left out with a note. Whatever the controls, each motif's sites are also
        counted in GC-matched negative windows (``frac_matched_with_site``, one-sided Fisher
        ``composition_p``), and a motif enriched against all negatives but not against the
        matched ones is marked ``explained by composition``.
    match_cpg : match CpG observed/expected (tertiles) as well as GC, for ``matched`` and the
        composition check
    backend : ``meme`` (the TOMTOM binary, ``tomtom.dist``) or ``memelite`` (numba
        TOMTOM, Euclidean distance; see :func:`run_tomtom_lite`)
    linear : writes the position-specific linear baseline, fitted on ``data``, as a source
        (``linear_bases``: ``linear(data, folder, seed)``, e.g.
        :func:`medna_interp.runs.linear_source.write_linear_source`), so that what the model
        finds beyond a linear model stands out; ``None`` leaves it out
    permute_labels : repeat discovery under the null (the default), into ``output/null``:
        the labels of the data and of every selection permuted (seeded by
        ``export_options.seed``), the windows and their scores kept, STREME and TOMTOM as
        for the real labels but no sites or logos (in ``tokens`` mode only the raw
        baselines: token tables are statistics of the true labels, so token sources stay
        "not tested"). ``False`` skips it, and every source is "not tested"
    """
    if backend not in BACKENDS:
        raise MednaError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    check_controls(controls)
    if modisco is not None:
        require_modisco()
    run_dir, output = Path(run_dir), Path(output)
    sources = list(sources) if sources is not None else available_sources(run_dir)
    if not sources and not raw_baseline:
        raise MednaError(f"{run_dir}: no CAD or CWGA outputs; run 'medna-interp cad' or 'cwga' first")
    db_path = database.path()
    database_motifs = {m.id: m for m in read_meme(db_path)}  # read once; fails before any STREME run
    matched_windows = matched_negatives(data, export_options.seed, required=controls == "matched", cpg=match_cpg)
    settings = dict(export_options=export_options, streme=streme, tomtom=tomtom, db_path=db_path,
                    database_motifs=database_motifs, meme_bin=meme_bin, raw_baseline=raw_baseline,
                    controls=controls, match_cpg=match_cpg, backend=backend, linear=linear,
                    matched_windows=matched_windows, modisco=modisco)
    found = _discover_once(run_dir, data, output, sources, draw=True, **settings)
    null = _discover_null(run_dir, data, output / NULL, sources, **settings) if permute_labels else None
    sources_judged, table_judged = judge_sources(found.sources, found.table,
                                                 null.sources if null is not None else None,
                                                 set(null.discovered) if null is not None else set())
    table_judged.to_csv(output / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
    sources_judged.to_csv(output / "sources.tsv", sep="\t", index=False, float_format="%.4g")
    found = found._replace(table=table_judged, sources=sources_judged)
    pd.DataFrame([m.to_dict() | {"url": jaspar_url(m.target_id) if not database.motif_db else ""}
                  for m in found.matches]).to_csv(output / "matches.tsv", sep="\t", index=False, float_format="%.4g")
    _positional_logos(found.where, data, output / "logos")
    distance = "ed (memelite)" if backend == "memelite" else tomtom.dist
    (output / "database.txt").write_text(database.describe() + f"\n{db_path}\nTOMTOM distance: {distance}\n")
    summary = {"database": database.describe(), "database_motifs": len(database_motifs),
               "max_evalue": streme.thresh, "match_thresh": tomtom.match_thresh, "controls": controls,
               "searches": found.searches, "across_sources": streme.across_sources,
               "match_cpg": match_cpg,
               "composition_check": describe_matching(matched_windows),
               "null": {"seed": export_options.seed} if permute_labels else None,
               "modisco": dataclasses.asdict(modisco) if modisco is not None else None}
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return MotifsResult(found.table, found.matches, found.discovered, found.sources,
                        null.sources if null else None)


def _discover_once(run_dir: Path, data: SequenceSet, output: Path, sources, *, export_options, streme, tomtom,
                   db_path, database_motifs, meme_bin, raw_baseline, controls, match_cpg, backend, linear,
                   matched_windows, modisco, draw: bool) -> _Pass:
    """One pass: every source and raw baseline through STREME and TOMTOM; writes ``motifs.tsv``
    and ``sources.tsv`` (and, with ``draw``, sites and logos) under ``output``."""
    discovered: dict[str, list[Motif]] = {}
    searched: dict[str, float] = {}  # the sources that ran a search (for the run's E-values): seconds
    notes: dict[str, str] = {}
    described: dict[str, dict] = {}
    where = {pair: run_dir for pair in sources}
    if linear is not None:
        try:
            linear(data, output / "linear_model", export_options.seed)
            where[("linear", "bases")] = output / "linear_model"
            sources = [*sources, ("linear", "bases")]
        except MednaError as error:
            discovered["linear_bases"], notes["linear_bases"] = [], f"no linear source: {error}"
            described["linear_bases"] = {"kind": "model-guided", "windows": "none: the linear model selects none"}
    label_of, baselines = _matched_baselines(where, sources) if raw_baseline else ({}, {})
    for source, view in sources:
        label = f"{source}_{view}"
        folder = output / label
        started = time.perf_counter()
        described[label] = {"kind": "model-guided", "windows": f"{source.upper()}'s selection",
                            "raw_baseline": label_of.get(source, "")}
        if source in ("linear", "ism") and export_options.mode == "tokens":
            discovered[label], notes[label] = [], f"{source} scores bases, not tokens (use seqlets)"
            continue
        exported = export(where[(source, view)], source, view, folder, export_options, allow_empty=True)
        described[label].update(n_primary=exported.n_primary, n_control=exported.n_control)
        if exported.n_primary < _FEWEST:
            discovered[label], notes[label] = [], ("nothing exported (no positive scores)" if exported.n_primary == 0
                                                   else "one primary sequence: STREME needs two")
            continue
        control, about, skipped = controls_for(exported.primary, exported.control, exported.n_control, folder,
                                                controls, match_cpg, export_options.seed)
        described[label].update(about)
        if skipped:
            discovered[label], notes[label] = [], skipped
            continue
        result = run_streme(exported.primary, control, folder / "streme", streme, meme_bin)
        discovered[label] = _prefixed(result.motifs, label)
        searched[label] = time.perf_counter() - started
    for source, view in sources if modisco is not None and export_options.mode != "tokens" else []:
        if source not in MODISCO_INPUTS:
            continue
        label = f"modisco_{source}_{view}"
        started = time.perf_counter()
        described[label] = {"kind": "model-guided", "windows": f"{source.upper()}'s selection, TF-MoDISco",
                            "raw_baseline": label_of.get(source, "")}
        try:
            discovered[label], about = modisco_source(where[(source, view)], source, view, output / label, modisco,
                                                      export_options.seed)
            described[label].update(about)
            searched[label] = time.perf_counter() - started
        except MednaError as error:
            discovered[label], notes[label] = [], str(error)
    if raw_baseline:
        labels = data.require_labels()
        windows = {RAW: ("all windows", pd.DataFrame({"id": data.ids, "label": labels, "sequence": data.sequences}))}
        windows.update({label: (f"the windows {' and '.join(who)} selected", frame)
                        for label, (who, frame) in baselines.items()})
        for label, (what, frame) in windows.items():
            folder = output / label
            started = time.perf_counter()
            primary, control = (frame[frame.label == value] for value in (1, 0))
            described[label] = {"kind": "raw baseline", "windows": what, "raw_baseline": "",
                                "n_primary": len(primary), "n_control": len(control)}
            if primary.empty or control.empty:
                discovered[label], notes[label] = [], "the windows hold only one class"
                continue
            if min(len(primary), len(control)) < _FEWEST:
                discovered[label], notes[label] = [], "one window of a class: STREME needs two"
                continue
            write_fasta(folder / "primary.fa", list(zip(primary.id, primary.sequence)))
            write_fasta(folder / "control.fa", list(zip(control.id, control.sequence)))
            control_path, about, skipped = controls_for(folder / "primary.fa", folder / "control.fa", len(control),
                                                         folder, controls, match_cpg, export_options.seed)
            described[label].update(about)
            if skipped:
                discovered[label], notes[label] = [], skipped
                continue
            result = run_streme(folder / "primary.fa", control_path, folder / "streme", streme, meme_bin)
            discovered[label] = _prefixed(result.motifs, label)
            searched[label] = time.perf_counter() - started

    every = [m for motifs in discovered.values() for m in motifs]
    names = {motif_id: motif.name for motif_id, motif in database_motifs.items()}
    if backend == "memelite":
        matches = run_tomtom_lite(every, list(database_motifs.values()), output / "tomtom", tomtom)
    else:
        matches = run_tomtom(every, db_path, output / "tomtom", tomtom, meme_bin, names=names)
    best = best_matches(matches)
    scan = scan_sites(every, data, output) if every and draw else None
    site_summary = scan.summary.set_index("motif") if scan is not None else None
    composition = composition_check(scan, data, matched_windows) if scan is not None else {}

    searches = len(searched) if streme.across_sources else 1  # what each search's E is multiplied by
    rows = []
    for label, motifs in discovered.items():
        if not motifs:
            rows.append({"source": label, "motif": "", "note": notes.get(label, "STREME found no motif")})
        for motif in motifs:
            match = best.get(motif.id)
            run_evalue = None if motif.evalue is None else min(1.0, motif.evalue * searches)
            significant = run_evalue is not None and run_evalue <= streme.thresh
            named = bool(significant and match and match.evalue <= tomtom.match_thresh)
            summary = site_summary.loc[motif.id] if site_summary is not None else None
            rows.append({
                "source": label, "motif": motif.id, "consensus": motif.consensus, "width": motif.width,
                "sites": motif.nsites, "evalue": motif.evalue, "run_evalue": run_evalue, "pvalue": motif.pvalue,
                "significant": significant,
                "best_match_id": match.target_id if match else "", "best_match_name": match.target_name if match else "",
                "best_match_p": match.pvalue if match else None, "best_match_e": match.evalue if match else None,
                "best_match_q": match.qvalue if match else None, "named": named,
                "orientation": match.orientation if match else "",
                "frac_pos_with_site": summary.frac_pos_with_site if summary is not None else None,
                "frac_neg_with_site": summary.frac_neg_with_site if summary is not None else None,
                **composition.get(motif.id, {}),
                "note": _note(significant, match, streme.thresh, tomtom.match_thresh, searches),
            })
            if not draw:
                continue
            motif_logo(motif, output / "logos" / logo_stem(motif.id))
            if "cwm" in motif.info:
                contribution_logo(motif, output / "logos")
            if match and match.target_id in database_motifs:
                aligned_logo(motif, database_motifs[match.target_id], match.offset, match.orientation,
                             output / "logos" / f"{logo_stem(motif.id)}__{logo_stem(match.target_id)}",
                             title=f"TOMTOM p = {match.pvalue:.2g}, E = {match.evalue:.2g}")
    table = pd.DataFrame(rows, columns=MOTIF_COLUMNS)
    table.to_csv(output / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
    source_table = _source_table(table, described, searched)
    source_table.to_csv(output / "sources.tsv", sep="\t", index=False, float_format="%.4g")
    if scan is not None:
        scan.sites.to_csv(output / "sites.tsv", sep="\t", index=False, float_format="%.4g")
        scan.positions.to_csv(output / "site_positions.tsv", sep="\t", index=False)
    (output / "scan.meme").unlink(missing_ok=True)
    return _Pass(table, matches, discovered, source_table, where, len(searched))


def _note(significant: bool, match: Match | None, max_evalue: float, match_thresh: float, searches: int) -> str:
    if not significant:
        return (f"not significant (run E = E x {searches} searches, above {max_evalue:g})" if searches > 1
                else f"not significant (E above {max_evalue:g})")
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


def _source_table(table: pd.DataFrame, described: dict[str, dict], seconds: dict[str, float]) -> pd.DataFrame:
    rows = []
    for label, about in described.items():
        motifs = table[(table.source == label) & (table.motif != "")]
        matched = motifs.best_match_p.dropna()
        rows.append({"source": label, **about, "motifs": len(motifs), "significant": int(motifs.significant.sum()),
                     "named": int(motifs.named.sum()),
                     "best_p_uncorrected": float(matched.min()) if len(matched) else None,
                     "seconds": round(seconds[label], 1) if label in seconds else None})
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
    settings = {**settings, "matched_windows": matched_negatives(permuted, seed, required=False,
                                                                 cpg=settings["match_cpg"])}
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
