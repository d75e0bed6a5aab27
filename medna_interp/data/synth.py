"""Synthetic 41-bp methylation windows with a known, planted sequence grammar.

The default grammar mimics the paper's Drosophila 6mA story: a modified site carries a
GAGG core near the central A *and* an A-tract a fixed spacing upstream of that core.
The core's position varies from window to window and the A-tract is placed relative to
the core, not to the window, so no position-specific (linear) model can represent the
rule: negatives include decoys with only one element, decoys with both at a wrong
spacing, and background. Because the truth is known, these sets test whether CAD and
CWGA recover what the model was made to learn.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import provenance


@dataclass
class PlantedMotif:
    """A motif planted at a 0-based start drawn uniformly from ``[start_min, start_max]``.

    With ``anchor`` (the name of a motif listed before it) the range is an offset from
    that motif's start in the same window (negative: upstream), so the pair keeps its
    spacing wherever the anchor lands.
    """

    name: str
    sequence: str
    start_min: int
    start_max: int
    anchor: str | None = None


@dataclass
class Grammar:
    """What makes a window positive.

    ``logic`` "and": positives carry every motif, decoy negatives a non-empty strict
    subset. "or": positives carry at least one motif, negatives none.
    ``decoy_fraction`` of negatives are decoys; ``mutation_rate`` substitutes planted
    bases at random; ``label_noise`` flips that fraction of labels.
    """

    length: int = 41
    centre_base: str = "A"
    background: dict[str, float] = field(default_factory=lambda: {"A": 0.3, "C": 0.2, "G": 0.2, "T": 0.3})
    motifs: list[PlantedMotif] = field(default_factory=lambda: [
        PlantedMotif("GAGG_core", "GAGG", 12, 24),
        # 4-7 bp between the tract's end and the core's start
        PlantedMotif("A_tract", "AAAAA", -12, -9, anchor="GAGG_core"),
    ])
    logic: str = "and"
    decoy_fraction: float = 0.7
    #: relative chance that a decoy carries each motif (aligned with ``motifs``); GAGG-only
    #: decoys are kept rarer because CAD contrasts the same token across classes: a
    #: motif that decoys carry as often as positives gets a negative CAd (see README)
    decoy_weights: list[float] = field(default_factory=lambda: [0.25, 0.75])
    mutation_rate: float = 0.0
    label_noise: float = 0.0
    #: fraction of decoys that carry every motif but one of them outside its allowed
    #: starts (an anchored motif: at a wrong spacing from its anchor, within the span its
    #: right spacings cover): where a motif sits, not only that it is there, decides the call
    misplaced_fraction: float = 0.5
    #: base probabilities of positive windows (default: ``background``): a composition
    #: confounder, e.g. GC-rich positives with no motif at all (``motifs: []``)
    positive_background: dict[str, float] | None = None
    #: standard deviation of each window's GC fraction around its class's (0: every window
    #: drawn from the class composition); real genomes vary regionally in GC
    gc_sd: float = 0.0
    #: share of positive windows (before label noise), spread evenly through the file
    positive_fraction: float = 0.5

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Grammar":
        path = Path(path)
        import yaml

        try:
            text = path.read_text()
            values = yaml.safe_load(text) if path.suffix.lower() in {".yaml", ".yml"} else json.loads(text)
        except (OSError, ValueError, yaml.YAMLError) as error:
            message = str(error).splitlines()[0] if str(error) else error.__class__.__name__
            raise MednaError(f"{path}: cannot read grammar ({message})") from None
        if not isinstance(values, dict):
            raise MednaError(f"{path}: a grammar is a mapping of settings (length, motifs, ...), "
                             f"got {type(values).__name__}")
        try:
            # an explicit empty list plants nothing (composition-only grammars)
            values["motifs"] = [PlantedMotif(**m) for m in values["motifs"]] if "motifs" in values else cls().motifs
            values.setdefault("decoy_weights", [1.0] * len(values["motifs"]))
            grammar = cls(**values)
        except (TypeError, ValueError, AttributeError) as error:
            raise MednaError(f"{path}: invalid grammar ({error})") from None
        grammar.validate(str(path))
        return grammar

    def validate(self, source: str = "grammar") -> None:
        if self.logic not in ("and", "or"):
            raise MednaError(f"{source}: logic must be 'and' or 'or'")
        if not 0 <= self.misplaced_fraction <= 1:
            raise MednaError(f"{source}: misplaced_fraction must lie in [0, 1]")
        for name in ("background", "positive_background"):
            composition = getattr(self, name)
            if composition is not None and (abs(sum(composition.values()) - 1.0) > 1e-6
                                            or set(composition) != set("ACGT")):
                raise MednaError(f"{source}: {name} must give A, C, G, T probabilities summing to 1")
        if not 0 < self.positive_fraction < 1:
            raise MednaError(f"{source}: positive_fraction must lie strictly between 0 and 1")
        if not 0 <= self.gc_sd <= 0.5:
            raise MednaError(f"{source}: gc_sd must lie in [0, 0.5]")
        if len(self.decoy_weights) != len(self.motifs) or \
                (self.motifs and (min(self.decoy_weights) < 0 or sum(self.decoy_weights) <= 0)):
            raise MednaError(f"{source}: decoy_weights needs one non-negative weight per motif")
        for i, motif in enumerate(self.motifs):
            if motif.anchor is not None:
                if motif.anchor not in [m.name for m in self.motifs[:i]]:
                    raise MednaError(f"{source}: motif {motif.name}'s anchor {motif.anchor!r} must name a motif "
                                     "listed before it")
                low, high = _span(self, motif)
                if motif.start_min > motif.start_max or low < 0 or high + len(motif.sequence) > self.length:
                    raise MednaError(f"{source}: motif {motif.name} at {motif.start_min}..{motif.start_max} "
                                     f"from {motif.anchor} does not fit in {self.length} bp")
            elif not 0 <= motif.start_min <= motif.start_max or motif.start_max + len(motif.sequence) > self.length:
                raise MednaError(f"{source}: motif {motif.name} does not fit in {self.length} bp")

    def to_dict(self) -> dict:
        return asdict(self)


def _by_name(grammar: Grammar, name: str) -> PlantedMotif:
    return next(m for m in grammar.motifs if m.name == name)


def _span(grammar: Grammar, motif: PlantedMotif) -> tuple[int, int]:
    """The lowest and highest absolute start ``motif`` can take."""
    if motif.anchor is None:
        return motif.start_min, motif.start_max
    low, high = _span(grammar, _by_name(grammar, motif.anchor))
    return low + motif.start_min, high + motif.start_max


def _allowed_starts(grammar: Grammar, motif: PlantedMotif, sequence: str) -> set[int]:
    """Absolute starts at which ``motif`` counts as present in ``sequence``."""
    if motif.anchor is None:
        return set(range(motif.start_min, motif.start_max + 1))
    anchor = _by_name(grammar, motif.anchor)
    width = len(anchor.sequence)
    anchored = [s for s in _allowed_starts(grammar, anchor, sequence) if sequence[s : s + width] == anchor.sequence]
    return {s + offset for s in anchored for offset in range(motif.start_min, motif.start_max + 1)}


def _contains(grammar: Grammar, sequence: str, motif: PlantedMotif) -> bool:
    width = len(motif.sequence)
    return any(0 <= s and sequence[s : s + width] == motif.sequence for s in _allowed_starts(grammar, motif, sequence))


def _misplaced_start(grammar: Grammar, motif: PlantedMotif, rng: np.random.Generator,
                     starts: dict[str, int]) -> int:
    last = grammar.length - len(motif.sequence)
    if motif.anchor is None:
        candidates = [s for s in range(last + 1) if not motif.start_min <= s <= motif.start_max]
    else:
        # a wrong spacing, but inside the span the right ones cover, so that the motif's
        # position alone (what a linear model sees) does not give the decoy away
        low, high = _span(grammar, motif)
        right = range(starts[motif.anchor] + motif.start_min, starts[motif.anchor] + motif.start_max + 1)
        candidates = [s for s in range(max(low, 0), min(high, last) + 1) if s not in right]
    return int(rng.choice(candidates))


def _start(grammar: Grammar, motif: PlantedMotif, rng: np.random.Generator, starts: dict[str, int]) -> int:
    offset = int(rng.integers(motif.start_min, motif.start_max + 1))
    return offset if motif.anchor is None else starts[motif.anchor] + offset


def _composition(grammar: Grammar, label: int, rng: np.random.Generator) -> np.ndarray:
    """Base probabilities (A, C, G, T) of one window: its class's, with its GC fraction jittered by ``gc_sd``."""
    source = grammar.positive_background if label == 1 and grammar.positive_background else grammar.background
    probabilities = np.array([source[b] for b in "ACGT"], float)
    if grammar.gc_sd > 0:
        gc = probabilities[1] + probabilities[2]
        target = float(np.clip(gc + rng.normal(0.0, grammar.gc_sd), 0.05, 0.95))
        probabilities[[1, 2]] *= target / gc
        probabilities[[0, 3]] *= (1 - target) / (1 - gc)
    return probabilities


def _draw(grammar: Grammar, carried: list[int], rng: np.random.Generator, misplaced: int | None = None,
          label: int = 0):
    bases = np.array(list("ACGT"))
    probabilities = _composition(grammar, label, rng)
    centre = grammar.length // 2
    while True:
        sequence = list(rng.choice(bases, size=grammar.length, p=probabilities))
        sequence[centre] = grammar.centre_base
        sites, overlaps, starts = [], False, {}
        for index in carried:
            motif = grammar.motifs[index]
            if motif.anchor is not None and motif.anchor not in starts:
                # without its anchor: anywhere its right spacings could put it
                low, high = _span(grammar, motif)
                start = int(rng.integers(max(low, 0), min(high, grammar.length - len(motif.sequence)) + 1))
            elif index == misplaced:
                start = _misplaced_start(grammar, motif, rng, starts)
            else:
                start = _start(grammar, motif, rng, starts)
            starts[motif.name] = start
            end = start + len(motif.sequence)
            if start < 0 or end > grammar.length or any(start < e and s < end for _, s, e in sites):
                overlaps = True
                break
            planted = [b if rng.random() >= grammar.mutation_rate else rng.choice(bases) for b in motif.sequence]
            sequence[start:end] = planted
            sites.append((motif.name, start, end))
        text = "".join(sequence)
        # Rejection keeps the truth clean: background must not add an unplanted motif.
        present = {i for i, m in enumerate(grammar.motifs) if _contains(grammar, text, m)}
        if not overlaps and text[centre] == grammar.centre_base and present <= set(carried) - {misplaced}:
            return text, sites


def generate(grammar: Grammar, n: int, rng: np.random.Generator, prefix: str):
    """``n`` windows, ``grammar.positive_fraction`` of them positive, with planted sites: (rows, sites)."""
    n_motifs = len(grammar.motifs)
    rows, sites = [], []
    fraction = grammar.positive_fraction
    for i in range(n):
        # alternating at one half (the layout every shipped set has), evenly spaced otherwise
        label = int(i % 2 == 0) if fraction == 0.5 else int(np.floor((i + 1) * fraction) > np.floor(i * fraction))
        misplaced = None
        if label and n_motifs:
            carried = list(range(n_motifs)) if grammar.logic == "and" else \
                sorted(rng.choice(n_motifs, size=int(rng.integers(1, n_motifs + 1)), replace=False).tolist())
        elif grammar.logic == "and" and n_motifs > 1 and rng.random() < grammar.decoy_fraction:
            if grammar.misplaced_fraction > 0 and rng.random() < grammar.misplaced_fraction:
                carried, misplaced = list(range(n_motifs)), int(rng.integers(n_motifs))
            else:
                weights = np.asarray(grammar.decoy_weights, float) / sum(grammar.decoy_weights)
                size = int(rng.integers(1, n_motifs))
                carried = sorted(rng.choice(n_motifs, size=size, replace=False, p=weights).tolist())
        else:
            carried = []
        sequence, planted = _draw(grammar, carried, rng, misplaced, label)
        if rng.random() < grammar.label_noise:
            label = 1 - label
        ident = f"{prefix}{i}"
        rows.append((ident, label, sequence))
        sites.extend((ident, label, name, start, end, sequence[start:end]) for name, start, end in planted)
    return rows, sites


def write_synthetic(output: str | os.PathLike, grammar: Grammar | None = None, n_train: int = 4000,
                    n_test: int = 1000, seed: int = 0, force: bool = False,
                    grammar_file: str | os.PathLike | None = None) -> Path:
    """Write ``train.tsv``, ``test.tsv`` (iDNA-MS format), ``sites.tsv`` and ``grammar.json``.

    ``output`` may be new, empty or an earlier synthetic set of ours (see
    :func:`medna_interp.core.outputs.claim_directory`); ``grammar_file`` is recorded as input.
    """
    grammar = grammar or Grammar()
    grammar.validate()
    if n_train < 0 or n_test < 0 or n_train + n_test == 0:
        raise MednaError(f"need a positive number of windows, got {n_train} train and {n_test} test")
    claim_directory(output, "synthetic", inputs=[grammar_file], force=force)
    rng = np.random.default_rng(seed)
    record = provenance({"grammar": grammar.to_dict(), "n_train": n_train, "n_test": n_test},
                        {"grammar": grammar_file} if grammar_file else {}, seed)
    with step_outputs(output, "synth", record, kind="synthetic") as stage:
        tmp = stage.path
        all_sites = []
        for split, n in (("train", n_train), ("test", n_test)):
            rows, sites = generate(grammar, n, rng, prefix=f"{split}_")
            with open(tmp / f"{split}.tsv", "w") as handle:
                handle.write("index\tlabel\ttext\n")
                handle.writelines(f"{i}\t{label}\t{s}\n" for i, label, s in rows)
            all_sites.extend((split, *site) for site in sites)
        with open(tmp / "sites.tsv", "w") as handle:
            handle.write("split\tid\tlabel\tmotif\tstart\tend\tsite\n")
            handle.writelines("\t".join(map(str, site)) + "\n" for site in all_sites)
        (tmp / "grammar.json").write_text(json.dumps({**grammar.to_dict(), "seed": seed}, indent=2) + "\n")
    return Path(output)


def planted_mask(sequences_ids: list[str], sites_path: str | os.PathLike, length: int) -> np.ndarray:
    """Boolean array (N, length): True at bases covered by a planted motif."""
    index = {ident: i for i, ident in enumerate(sequences_ids)}
    mask = np.zeros((len(sequences_ids), length), dtype=bool)
    with open(sites_path) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        id_at, start_at, end_at = header.index("id"), header.index("start"), header.index("end")
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if fields[id_at] in index:
                mask[index[fields[id_at]], int(fields[start_at]) : int(fields[end_at])] = True
    return mask
