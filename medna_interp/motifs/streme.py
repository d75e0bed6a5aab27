"""STREME: discriminative motif discovery, primary vs control sequences."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import MednaError, check_options
from .meme import find_tool, meme_environment, tool_message
from .motif import Motif

# Windows are centred and oriented on the candidate base, so by default only the given
# strand is searched: an alphabet without complements makes STREME single-stranded.
_SINGLE_STRAND_ALPHABET = """ALPHABET "DNA, single strand"
A "Adenine" CC0000
C "Cytosine" 0000CC
G "Guanine" FFB300
T "Thymine" 008000
N = ACGT
"""


@dataclass(frozen=True)
class StremeOptions:
    """STREME settings. Defaults: widths 4-10 (the 8-15 default lets a wide A-tract
    swallow a nearby core), STREME's own stopping rule, discriminative objective, order-2
    background, single strand.

    ``thresh`` is an E-value (held-out test p-value x motifs tested): with ``nmotifs=0``
    STREME stops after ``patience`` motifs in a row above it, and :func:`discover` calls a
    motif significant only at E <= ``thresh`` however many were asked for. With
    ``nmotifs > 0`` exactly that many are reported, significant or not.

    ``across_sources``: a run searches many sources (each view of each method, the raw
    baselines), and each search's E-value controls false motifs for that search alone, so
    :func:`discover` gates the run's E-value instead: E x the number of searches in the run
    (Bonferroni over searches), which keeps the whole run's expected false motifs at
    ``thresh``. ``False`` gates each search's own E."""

    nmotifs: int = 0
    thresh: float = 0.05
    minw: int = 4
    maxw: int = 10
    objfun: str = "de"
    order: int = 2
    strands: str = "single"
    seed: int = 0
    across_sources: bool = True

    def __post_init__(self):
        problems = [
            (self.nmotifs >= 0, f"nmotifs must be 0 (STREME's own stopping rule) or more, got {self.nmotifs}"),
            (0 < self.thresh <= 1, f"the E-value threshold (--max-evalue) must be in (0, 1], got {self.thresh}"),
            (3 <= self.minw <= 30, f"minw must be between 3 and 30 (STREME's limits), got {self.minw}"),
            (self.minw <= self.maxw <= 30, f"maxw must be between minw ({self.minw}) and 30, got {self.maxw}"),
            (self.objfun in ("de", "cd"), f"objfun must be 'de' or 'cd', got {self.objfun!r}"),
            (0 <= self.order <= 5, f"order must be between 0 and 5 (STREME's limits), got {self.order}"),
            (self.strands in ("single", "both"), f"strands must be 'single' or 'both', got {self.strands!r}"),
        ]
        check_options("STREME", problems)

    def describe(self) -> str:
        """The options as STREME's command line spells them, for messages."""
        limit = f"--nmotifs {self.nmotifs}" if self.nmotifs else f"--thresh {self.thresh} --evalue"
        return (f"{limit} --minw {self.minw} --maxw {self.maxw} --objfun {self.objfun} --order {self.order} "
                f"--strands {self.strands}")


@dataclass
class StremeResult:
    """STREME's motifs (``pwm`` of shape (W, 4), held-out p and E), its output folder, the
    command run, and the numbers of primary and control sequences."""
    motifs: list[Motif]
    directory: Path
    command: list[str]
    n_primary: int
    n_control: int


def count_fasta(path: str | os.PathLike, min_length: int) -> tuple[int, int]:
    """(sequences, sequences at least ``min_length`` long) in a FASTA file."""
    lengths, current = [], None
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(">"):
                    if current is not None:
                        lengths.append(current)
                    current = 0
                elif current is not None:
                    current += len(line.strip())
    except OSError as error:
        raise MednaError(f"{path}: cannot read FASTA ({error.strerror})") from None
    if current is not None:
        lengths.append(current)
    return len(lengths), sum(1 for n in lengths if n >= min_length)


def _check_fasta(path, role: str, minw: int) -> int:
    total, usable = count_fasta(path, minw)
    if total == 0:
        raise MednaError(f"{path}: {role} FASTA is empty")
    if usable == 0:
        raise MednaError(f"{path}: no {role} sequence is at least {minw} bp (the minimum motif width)")
    return total


def run_streme(primary: str | os.PathLike, control: str | os.PathLike | None, output: str | os.PathLike,
               options: StremeOptions = StremeOptions(), meme_bin: str | None = None) -> StremeResult:
    """Run STREME and parse ``streme.xml``; no motif found is an empty list, not an error.

    Every motif STREME reports is returned, with its held-out p- and E-value, including
    those above ``options.thresh`` that made it stop: the caller judges significance.
    With ``control=None`` STREME compares against shuffles of the primary sequences
    that keep ``options.order``-mer composition.
    """
    n_primary = _check_fasta(primary, "primary", options.minw)
    n_control = _check_fasta(control, "control", options.minw) if control else 0
    binary = find_tool("streme", meme_bin)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    limit = ["--nmotifs", str(options.nmotifs)] if options.nmotifs > 0 else \
        ["--thresh", str(options.thresh), "--evalue"]
    command = [str(binary), "--p", str(primary), "--oc", str(output), *limit,
               "--minw", str(options.minw), "--maxw", str(options.maxw), "--objfun", options.objfun,
               "--order", str(options.order), "--seed", str(options.seed), "--verbosity", "1"]
    if control and options.objfun == "de":
        command += ["--n", str(control)]
    if options.strands == "single":
        alphabet = output / "single_strand.alph"
        alphabet.write_text(_SINGLE_STRAND_ALPHABET)
        command += ["--alph", str(alphabet)]
    else:
        command += ["--dna"]
    result = subprocess.run(command, capture_output=True, text=True, env=meme_environment(binary))
    if result.returncode != 0:
        raise MednaError(f"STREME failed (exit {result.returncode}) with {options.describe()}: "
                         f"{tool_message(result.stderr)}")
    motifs = parse_streme_xml(output / "streme.xml")
    return StremeResult(motifs, output, command, n_primary, n_control)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_streme_xml(path: str | os.PathLike) -> list[Motif]:
    """Motifs of a ``streme.xml``: consensus id, PWM, site counts, test p-value and E-value."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        raise MednaError(f"{path}: cannot parse STREME output ({error})") from None
    motifs = []
    for element in root.iter("motif"):
        rows = [[float(pos.get(b, 0.0)) for b in "ACGT"] for pos in element.iter("pos")]
        attributes = element.attrib
        info = {key: attributes[key] for key in ("train_pos_count", "train_neg_count", "test_pos_count",
                                                 "test_neg_count", "site_distr", "total_sites", "seed")
                if key in attributes}
        motifs.append(Motif(
            id=attributes["id"], name=attributes.get("alt", attributes["id"]), pwm=np.asarray(rows),
            nsites=int(float(attributes.get("total_sites", 0))), evalue=_float(attributes.get("test_evalue")),
            pvalue=_float(attributes.get("test_pvalue")), info=info,
        ))
    return motifs
