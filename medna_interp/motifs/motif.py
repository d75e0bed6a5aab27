"""Position weight matrices and the MEME motif text format (version 4)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from ..core.outputs import atomic_file
from ..core.sequence import BASES

_IUPAC = {frozenset("AC"): "M", frozenset("AG"): "R", frozenset("AT"): "W", frozenset("CG"): "S",
          frozenset("CT"): "Y", frozenset("GT"): "K"}


@dataclass
class Motif:
    """A DNA motif.

    Attributes
    ----------
    id, name : str
    pwm : np.ndarray, shape (W, 4), letter probabilities in A, C, G, T order
    nsites : int, sites the matrix was built from
    evalue, pvalue : significance from discovery (None for database motifs)
    info : dict, further statistics (STREME counts, site distribution, ...)
    """

    id: str
    name: str
    pwm: np.ndarray
    nsites: int = 0
    evalue: float | None = None
    pvalue: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return len(self.pwm)

    @property
    def consensus(self) -> str:
        """IUPAC consensus: a base at >= 0.5, a two-base code at >= 0.75 together, else N."""
        letters = []
        for row in self.pwm:
            order = np.argsort(-row)
            if row[order[0]] >= 0.5:
                letters.append(BASES[order[0]])
            elif row[order[0]] + row[order[1]] >= 0.75:
                letters.append(_IUPAC[frozenset(BASES[order[0]] + BASES[order[1]])])
            else:
                letters.append("N")
        return "".join(letters)

    def reverse_complement(self) -> "Motif":
        return Motif(self.id, self.name, self.pwm[::-1, ::-1].copy(), self.nsites, self.evalue, self.pvalue,
                     dict(self.info))


def write_meme(path: str | os.PathLike, motifs: list[Motif], strands: str = "+ -",
               background: np.ndarray | None = None) -> None:
    """Write motifs in MEME text format (``MEME version 4``), atomically."""
    background = np.full(4, 0.25) if background is None else background
    with atomic_file(path) as handle:
        handle.write("MEME version 4\n\nALPHABET= ACGT\n\n")
        handle.write(f"strands: {strands}\n\n")
        handle.write("Background letter frequencies\n")
        handle.write(" ".join(f"{b} {p:.4f}" for b, p in zip(BASES, background)) + "\n\n")
        for motif in motifs:
            name = re.sub(r"\s+", "_", motif.name) if motif.name else ""
            handle.write(f"MOTIF {motif.id} {name}".rstrip() + "\n")
            e = motif.evalue if motif.evalue is not None else 0
            handle.write(f"letter-probability matrix: alength= 4 w= {motif.width} "
                         f"nsites= {max(motif.nsites, 1)} E= {e:.3g}\n")
            for row in motif.pwm:
                handle.write(" " + "  ".join(f"{p:.6f}" for p in row) + "\n")
            handle.write("\n")


def read_meme(path: str | os.PathLike) -> list[Motif]:
    """Read the motifs of a MEME-format file (DNA)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise MednaError(f"{path}: cannot read motif file ({error.strerror})") from None
    motifs: list[Motif] = []
    current = None
    rows: list[list[float]] = []
    width = 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("MOTIF"):
            parts = stripped.split()
            if len(parts) < 2:
                raise MednaError(f"{path}:{number}: MOTIF line without an id")
            current = (parts[1], parts[2] if len(parts) > 2 else parts[1])
        elif stripped.startswith("letter-probability matrix"):
            if current is None:
                raise MednaError(f"{path}:{number}: matrix before any MOTIF line")
            match = re.search(r"w=\s*(\d+)", stripped)
            width = int(match.group(1)) if match else 0
            nsites = re.search(r"nsites=\s*([\d.eE+-]+)", stripped)
            rows = []
            motifs.append(Motif(current[0], current[1], np.zeros((0, 4)),
                                int(float(nsites.group(1))) if nsites else 0))
        elif motifs and width and len(rows) < width and stripped and not stripped.startswith("URL"):
            try:
                values = [float(v) for v in stripped.split()]
            except ValueError:
                raise MednaError(f"{path}:{number}: expected {width} matrix rows of 4 numbers") from None
            if len(values) != 4:
                raise MednaError(f"{path}:{number}: matrix row has {len(values)} columns, expected 4 (DNA)")
            rows.append(values)
            if len(rows) == width:
                motifs[-1].pwm = np.asarray(rows)
    if not motifs:
        raise MednaError(f"{path}: no motifs found (expected MEME format: MOTIF lines and letter-probability matrices)")
    return motifs
