"""``medna-interp motifs``: export -> STREME -> TOMTOM for every CAD/CWGA source of a run,
plus the raw baseline (STREME on all positives vs all negatives), then sites and logos."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import MednaError
from ..io import SequenceSet, write_fasta
from .export import ExportOptions, available_sources, export, per_base_scores
from .jaspar import DEFAULT_RELEASE, jaspar_database, jaspar_url
from .logos import aligned_logo, logo_stem, enrichment_matrix, motif_logo, positional_logo, saliency_matrix
from .motif import Motif, read_meme
from .sites import scan_sites
from .streme import StremeOptions, run_streme
from .tomtom import BACKENDS, Match, TomtomOptions, best_matches, run_tomtom, run_tomtom_lite

MOTIF_COLUMNS = ["source", "motif", "consensus", "width", "sites", "evalue", "pvalue", "best_match_id",
                 "best_match_name", "best_match_p", "best_match_e", "best_match_q", "orientation",
                 "frac_pos_with_site", "frac_neg_with_site", "note"]
RAW = "raw"


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
    """Motifs of a run: ``table`` (``motifs.tsv``), every TOMTOM ``matches`` entry, and the
    STREME ``motifs`` of each source (``cad_kmer``, ..., ``raw``)."""
    table: pd.DataFrame
    matches: list[Match]
    motifs: dict[str, list[Motif]] = field(default_factory=dict)


def discover(run_dir: str | os.PathLike, data: SequenceSet, output: str | os.PathLike, *,
             export_options: ExportOptions = ExportOptions(), streme: StremeOptions = StremeOptions(),
             tomtom: TomtomOptions = TomtomOptions(), database: DatabaseChoice = DatabaseChoice(),
             meme_bin: str | None = None, raw_baseline: bool = True, sources=None,
             shuffled_control: bool = False, backend: str = "meme", linear: bool = False) -> MotifsResult:
    """Discover, name and locate motifs; writes everything under ``output`` (a folder).

    Parameters
    ----------
    run_dir : a run directory with CAD and/or CWGA outputs
    data : the labelled windows of the run (for the raw baseline and site scans)
    sources : (source, view) pairs; default every available one
    shuffled_control : STREME's shuffles of the primary sequences (``streme.order``-mer
        composition kept) as control for the model-guided sources, instead of the
        exported negatives
    backend : ``meme`` (the TOMTOM binary, ``tomtom.dist``) or ``memelite`` (numba
        TOMTOM, Euclidean distance; see :func:`run_tomtom_lite`)
    linear : also fit the position-specific linear baseline on ``data`` and use its
        per-base weights as a source (``linear_bases``), so that what the model finds
        beyond a linear model stands out
    """
    if backend not in BACKENDS:
        raise MednaError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    run_dir, output = Path(run_dir), Path(output)
    sources = list(sources) if sources is not None else available_sources(run_dir)
    if not sources and not raw_baseline:
        raise MednaError(f"{run_dir}: no CAD or CWGA outputs; run 'medna-interp cad' or 'cwga' first")
    db_path = database.path()
    database_motifs = {m.id: m for m in read_meme(db_path)}  # read once; fails before any STREME run
    discovered: dict[str, list[Motif]] = {}
    notes: dict[str, str] = {}
    where = {pair: run_dir for pair in sources}
    if linear:
        from ..baseline import write_linear_source

        try:
            write_linear_source(data, output / "linear_model", export_options.seed)
            where[("linear", "bases")] = output / "linear_model"
            sources = [*sources, ("linear", "bases")]
        except MednaError as error:
            discovered["linear_bases"], notes["linear_bases"] = [], f"no linear source: {error}"
    for source, view in sources:
        label = f"{source}_{view}"
        folder = output / label
        if source in ("linear", "ism") and export_options.mode == "tokens":
            discovered[label], notes[label] = [], f"{source} scores bases, not tokens (use seqlets)"
            continue
        exported = export(where[(source, view)], source, view, folder, export_options, allow_empty=True)
        if exported.n_primary == 0:
            discovered[label], notes[label] = [], "nothing exported (no positive scores)"
            continue
        control = None if shuffled_control else exported.control
        result = run_streme(exported.primary, control, folder / "streme", streme, meme_bin)
        discovered[label] = _prefixed(result.motifs, label)
    if raw_baseline:
        folder = output / RAW
        labels = data.require_labels()
        write_fasta(folder / "primary.fa", [(i, s) for i, s, y in zip(data.ids, data.sequences, labels) if y == 1])
        write_fasta(folder / "control.fa", [(i, s) for i, s, y in zip(data.ids, data.sequences, labels) if y == 0])
        result = run_streme(folder / "primary.fa", folder / "control.fa", folder / "streme", streme, meme_bin)
        discovered[RAW] = _prefixed(result.motifs, RAW)

    every = [m for motifs in discovered.values() for m in motifs]
    names = {motif_id: motif.name for motif_id, motif in database_motifs.items()}
    if backend == "memelite":
        matches = run_tomtom_lite(every, list(database_motifs.values()), output / "tomtom", tomtom)
    else:
        matches = run_tomtom(every, db_path, output / "tomtom", tomtom, meme_bin, names=names)
    best = best_matches(matches)
    scan = scan_sites(every, data, output) if every else None

    rows = []
    for label, motifs in discovered.items():
        if not motifs:
            rows.append({"source": label, "motif": "", "note": notes.get(label, "STREME found no motif")})
        for motif in motifs:
            match = best.get(motif.id)
            summary = scan.summary.set_index("motif").loc[motif.id] if scan is not None else None
            rows.append({
                "source": label, "motif": motif.id, "consensus": motif.consensus, "width": motif.width,
                "sites": motif.nsites, "evalue": motif.evalue, "pvalue": motif.pvalue,
                "best_match_id": match.target_id if match else "", "best_match_name": match.target_name if match else "",
                "best_match_p": match.pvalue if match else None, "best_match_e": match.evalue if match else None,
                "best_match_q": match.qvalue if match else None, "orientation": match.orientation if match else "",
                "frac_pos_with_site": summary.frac_pos_with_site if summary is not None else None,
                "frac_neg_with_site": summary.frac_neg_with_site if summary is not None else None,
                "note": "" if match else "no database match at the TOMTOM threshold",
            })
            motif_logo(motif, output / "logos" / logo_stem(motif.id))
            if match and match.target_id in database_motifs:
                aligned_logo(motif, database_motifs[match.target_id], match.offset, match.orientation,
                             output / "logos" / f"{logo_stem(motif.id)}__{logo_stem(match.target_id)}",
                             title=f"TOMTOM p = {match.pvalue:.2g}")
    table = pd.DataFrame(rows, columns=MOTIF_COLUMNS)
    table.to_csv(output / "motifs.tsv", sep="\t", index=False, float_format="%.4g")
    pd.DataFrame([m.to_dict() | {"url": jaspar_url(m.target_id) if not database.motif_db else ""}
                  for m in matches]).to_csv(output / "matches.tsv", sep="\t", index=False, float_format="%.4g")
    if scan is not None:
        scan.sites.to_csv(output / "sites.tsv", sep="\t", index=False, float_format="%.4g")
        scan.positions.to_csv(output / "site_positions.tsv", sep="\t", index=False)
    (output / "scan.meme").unlink(missing_ok=True)
    _positional_logos(where, data, sources, output / "logos")
    distance = "ed (memelite)" if backend == "memelite" else tomtom.dist
    (output / "database.txt").write_text(database.describe() + f"\n{db_path}\nTOMTOM distance: {distance}\n")
    return MotifsResult(table, matches, discovered)


def _prefixed(motifs: list[Motif], label: str) -> list[Motif]:
    for motif in motifs:
        motif.id = f"{label}:{motif.id}"
    return motifs


def _positional_logos(where: dict, data: SequenceSet, sources, folder: Path) -> None:
    labels = data.require_labels()
    positives = [s for s, y in zip(data.sequences, labels) if y == 1]
    negatives = [s for s, y in zip(data.sequences, labels) if y == 0]
    positional_logo(enrichment_matrix(positives, negatives), folder / "positional_raw",
                    "raw: positives vs negatives, f_pos log2(f_pos/f_neg)", "bits")
    for source, view in sources:
        selection, scores = per_base_scores(where[(source, view)], source, view)
        keep = selection.label.to_numpy() == 1
        matrix = saliency_matrix(list(selection.sequence[keep]), scores[keep])
        what = {"cad": "attention minus negatives' mean", "cwga": "attribution",
                "linear": "linear-model weight minus negatives' mean", "ism": "drop in log-odds"}[source]
        positional_logo(matrix, folder / f"positional_{source}_{view}",
                        f"{source.upper()} {view}: mean per-base {what} in positives", "score")
