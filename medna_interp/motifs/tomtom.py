"""TOMTOM: compare discovered motifs with a database (JASPAR or the user's own)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from .meme import find_tool, meme_environment, tool_message
from .motif import Motif, read_meme, write_meme

TSV_COLUMNS = ["Query_ID", "Target_ID", "Optimal_offset", "p-value", "E-value", "q-value", "Overlap",
               "Query_consensus", "Target_consensus", "Orientation"]


DISTANCES = ("allr", "ed", "kullback", "pearson", "sandelin", "blic1", "blic5", "llr1", "llr5")


@dataclass(frozen=True)
class TomtomOptions:
    """TOMTOM's own defaults: Pearson correlation, overlap >= 5, q-value <= 0.5 for a match
    to be listed. ``match_thresh`` is stricter and ours: a best match names its motif only
    when its E-value (p x the number of database motifs searched) is at most it."""

    dist: str = "pearson"
    min_overlap: int = 5
    thresh: float = 0.5
    evalue: bool = False
    match_thresh: float = 0.05

    def __post_init__(self):
        if self.dist not in DISTANCES:
            raise MednaError(f"TOMTOM distance must be one of {', '.join(DISTANCES)}, got {self.dist!r}")
        if self.min_overlap < 1:
            raise MednaError(f"TOMTOM minimum overlap must be at least 1, got {self.min_overlap}")
        if not (0 < self.thresh <= 1 or (self.evalue and self.thresh > 0)):
            raise MednaError(f"TOMTOM threshold must be in (0, 1], got {self.thresh}")
        if not 0 < self.match_thresh <= 1:
            raise MednaError(f"the match threshold (--match-thresh) must be in (0, 1], got {self.match_thresh}")


@dataclass
class Match:
    """One TOMTOM match: the query's best alignment to a database motif. ``offset`` puts
    query column 0 under that column of the target in ``orientation`` (``-``: the target's
    reverse complement); ``pvalue``, ``evalue`` (p x database size) and ``qvalue``."""
    query_id: str
    target_id: str
    target_name: str
    offset: int
    pvalue: float
    evalue: float
    qvalue: float
    overlap: int
    query_consensus: str
    target_consensus: str
    orientation: str

    def to_dict(self) -> dict:
        return asdict(self)


def run_tomtom(queries: list[Motif], database: str | os.PathLike, output: str | os.PathLike,
               options: TomtomOptions = TomtomOptions(), meme_bin: str | None = None,
               names: dict[str, str] | None = None) -> list[Match]:
    """All matches of ``queries`` against a MEME-format ``database``, best first per query.

    Writes ``queries.meme`` and ``tomtom.tsv`` under ``output``. Target names come from
    ``names`` (id -> name) or, if not given, from the database file (TOMTOM's TSV has ids only).
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if not queries:
        (output / "tomtom.tsv").write_text("\t".join(TSV_COLUMNS) + "\n")
        return []
    if names is None:
        names = {motif.id: motif.name for motif in read_meme(database)}
    query_file = output / "queries.meme"
    write_meme(query_file, queries)
    binary = find_tool("tomtom", meme_bin)
    command = [str(binary), "-no-ssc", "-text", "-dist", options.dist, "-min-overlap", str(options.min_overlap),
               "-thresh", str(options.thresh)] + (["-evalue"] if options.evalue else []) + \
              [str(query_file), str(database)]
    result = subprocess.run(command, capture_output=True, text=True, env=meme_environment(binary))
    if result.returncode != 0:
        raise MednaError(f"TOMTOM failed (exit {result.returncode}) with -dist {options.dist} -min-overlap "
                         f"{options.min_overlap} -thresh {options.thresh}: {tool_message(result.stderr)}")
    (output / "tomtom.tsv").write_text(result.stdout)
    return parse_tomtom_tsv(output / "tomtom.tsv", names)


def parse_tomtom_tsv(path: str | os.PathLike, names: dict[str, str] | None = None) -> list[Match]:
    """Rows of a ``tomtom.tsv`` (comment lines skipped), sorted by query then p-value."""
    names = names or {}
    matches = []
    with open(path) as handle:
        header = None
        for line in handle:
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if header is None:
                header = fields
                if header[:2] != TSV_COLUMNS[:2]:
                    raise MednaError(f"{path}: not a TOMTOM TSV (header {header[:3]})")
                continue
            row = dict(zip(header, fields))
            matches.append(Match(
                query_id=row["Query_ID"], target_id=row["Target_ID"],
                target_name=names.get(row["Target_ID"], row["Target_ID"]),
                offset=int(row["Optimal_offset"]), pvalue=float(row["p-value"]), evalue=float(row["E-value"]),
                qvalue=float(row["q-value"]), overlap=int(row["Overlap"]),
                query_consensus=row["Query_consensus"], target_consensus=row["Target_consensus"],
                orientation=row["Orientation"],
            ))
    return sorted(matches, key=lambda m: (m.query_id, m.pvalue))


def best_matches(matches: list[Match]) -> dict[str, Match]:
    """The lowest-p-value match of each query."""
    best: dict[str, Match] = {}
    for match in matches:
        if match.query_id not in best or match.pvalue < best[match.query_id].pvalue:
            best[match.query_id] = match
    return best


BACKENDS = ("meme", "memelite")


def run_tomtom_lite(queries: list[Motif], database: list[Motif], output: str | os.PathLike,
                    options: TomtomOptions = TomtomOptions()) -> list[Match]:
    """TOMTOM with memelite's numba implementation: no MEME binary, no compiler.

    memelite scores column pairs by Euclidean distance (MEME's ``-dist ed``), whatever
    ``options.dist`` says; its offsets and orientations follow MEME's. E-values are
    p x the number of database motifs and q-values are Benjamini-Hochberg over each
    query's targets; a match is kept when its overlap reaches ``options.min_overlap``
    and its q-value (E-value with ``options.evalue``) is at most ``options.thresh``.
    Writes ``tomtom.tsv`` in TOMTOM's layout under ``output``.

    Parameters
    ----------
    queries : motifs to name, each ``pwm`` of shape (W, 4)
    database : the motifs to compare them with

    Returns
    -------
    list of Match, sorted by query then p-value
    """
    from memelite import tomtom

    from ..core.stats import benjamini_hochberg

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    matches = []
    if queries:
        pvalues, _, offsets, overlaps, strands = tomtom([q.pwm.T.astype(np.float64) for q in queries],
                                                        [t.pwm.T.astype(np.float64) for t in database])
        n_targets = len(database)
        for row, query in enumerate(queries):
            p = np.clip(pvalues[row], 0.0, 1.0)
            q = benjamini_hochberg(p)
            for column in np.argsort(p, kind="stable"):
                significance = p[column] * n_targets if options.evalue else q[column]
                if overlaps[row, column] < options.min_overlap or significance > options.thresh:
                    continue
                target = database[column]
                matches.append(Match(query.id, target.id, target.name, int(offsets[row, column]), float(p[column]),
                                     float(p[column] * n_targets), float(q[column]), int(overlaps[row, column]),
                                     query.consensus, target.consensus, "+" if strands[row, column] == 0 else "-"))
    with open(output / "tomtom.tsv", "w") as handle:
        handle.write("\t".join(TSV_COLUMNS) + "\n")
        for m in matches:
            handle.write("\t".join(map(str, (m.query_id, m.target_id, m.offset, f"{m.pvalue:.6g}", f"{m.evalue:.6g}",
                                             f"{m.qvalue:.6g}", m.overlap, m.query_consensus, m.target_consensus,
                                             m.orientation))) + "\n")
    return sorted(matches, key=lambda m: (m.query_id, m.pvalue))
