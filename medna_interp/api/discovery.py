"""Motif discovery from explanations, and a run directory's report."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance
from ..motifs.discover import DatabaseChoice, discover as _discover
from ..motifs.export import ExportOptions
from ..motifs.modisco import ModiscoOptions
from ..motifs.motif import Motif
from ..motifs.streme import StremeOptions
from ..motifs.tomtom import Match, TomtomOptions
from ..runs.linear_source import write_linear_source
from .explain import Explanation


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
    discovery : significant, and its source found no significant motif under permuted
        labels (``permute_labels``; without it every significant motif counts)
    """

    source: str
    motif: Motif
    matches: list[Match]
    significant: bool = False
    named: bool = False
    discovery: bool = False

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
             backend: str = "meme", linear: bool = False, permute_labels: bool = True,
             modisco: ModiscoOptions | None = None) -> Discovery:
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
    permute_labels : repeat it all with the labels permuted; a source that finds a
        significant motif there offers no discoveries (see :func:`medna_interp.motifs.discover.discover`)
    modisco : also TF-MoDISco on each CWGA result's attributions (needs modisco-lite)

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
                       linear=write_linear_source if linear else None, permute_labels=permute_labels,
                       modisco=modisco)
        if output is None:
            found = _discover(run_dir, results[0].data, Path(scratch) / "motifs", **options)
        else:
            claim_directory(output, "motifs")
            record = provenance({"sources": sources, "database": database.describe(), "backend": backend,
                                 "export": asdict(export_options), "streme": asdict(streme),
                                 "tomtom": asdict(tomtom), "permute_labels": permute_labels,
                                 "modisco": asdict(modisco) if modisco else None}, {}, export_options.seed)
            with step_outputs(output, "discover", record, kind="motifs") as stage:
                found = _discover(run_dir, results[0].data, stage.path, **options)
    by_query: dict[str, list[Match]] = {}
    for match in sorted(found.matches, key=lambda m: m.pvalue):
        by_query.setdefault(match.query_id, []).append(match)
    flags = found.table.set_index("motif")[["significant", "named", "discovery"]]
    motifs = [DiscoveredMotif(source, motif, by_query.get(motif.id, []), bool(flags.significant[motif.id]),
                              bool(flags.named[motif.id]), bool(flags.discovery[motif.id]))
              for source, group in found.motifs.items() for motif in group]
    return Discovery(motifs, found.table, Path(output) if output is not None else None)


def report(run_dir: str | os.PathLike):
    """Write ``report.html`` and ``report.json`` for a run directory; returns their paths (``.html``, ``.json``)."""
    from ..reporting import write_report

    return write_report(run_dir)
