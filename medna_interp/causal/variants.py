"""Variant effects: what one base change near a site does to the model's call.

Each variant is scored as the change in P(modified) and in log-odds from reference to
alternative, and ranked among every single-base change of its window (saturation
mutagenesis of that window), so a biologist sees at once whether it is one of the few
changes the model cares about.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from ..core.errors import MednaError
from ..core.outputs import claim_directory, step_outputs
from ..core.provenance import Resources, provenance
from ..core.sequence import BASES
from ..data.io import SequenceSet
from ..interpret.ism import ism
from ..models.medna_dfm import MednaDFM

COLUMNS = ["id", "window_id", "position", "ref", "alt", "p_ref", "p_alt", "delta_p", "delta_logit", "rank_by_drop",
           "n_changes", "rank_fraction"]


@dataclass(frozen=True)
class Variant:
    """One single-base change: ``position`` is 1-based in ``sequence``."""

    id: str
    sequence: str
    position: int
    ref: str
    alt: str
    window_id: str = ""


def read_variants(path: str | os.PathLike, data: SequenceSet | None = None, length: int | None = 41) -> list[Variant]:
    """Variants from a TSV with a header: ``id``, ``position`` (1-based), ``ref``, ``alt``, and
    per line either ``sequence`` (the window) or ``window_id`` (an id of ``data``).

    Raises
    ------
    MednaError : naming the file and line of the first bad row
    """
    path = Path(path)
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError) as error:
        raise MednaError(f"{path}: cannot read variants ({error.__class__.__name__})") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise MednaError(f"{path}: empty; expected a header with id, position, ref, alt and sequence or window_id")
    header = [cell.strip().lower() for cell in rows[0]]
    missing = [c for c in ("id", "position", "ref", "alt") if c not in header]
    if missing or not {"sequence", "window_id"} & set(header):
        need = missing + ([] if {"sequence", "window_id"} & set(header) else ["sequence or window_id"])
        raise MednaError(f"{path}:1: missing column(s) {', '.join(need)} (header: {' '.join(header)})")
    windows = dict(zip(data.ids, data.sequences)) if data is not None else {}
    variants, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (cell.strip() for cell in row)))
        where = f"{path}:{number}"
        ident = cells.get("id", "")
        if not ident:
            raise MednaError(f"{where}: no id")
        if ident in seen:
            raise MednaError(f"{where}: id {ident!r} is used twice")
        seen.add(ident)
        sequence, window_id = cells.get("sequence", "").upper(), cells.get("window_id", "")
        if not sequence:
            if not window_id:
                raise MednaError(f"{where}: give the window as sequence or window_id")
            if data is None:
                raise MednaError(f"{where}: window_id {window_id!r} needs --data, the file holding the windows")
            if window_id not in windows:
                raise MednaError(f"{where}: window_id {window_id!r} is not in {data.source}")
            sequence = windows[window_id]
        bad = next((c for c in sequence if c not in BASES), None)
        if bad is not None:
            raise MednaError(f"{where}: the window holds {bad!r}; windows are written in A, C, G, T")
        if length and len(sequence) != length:
            raise MednaError(f"{where}: the window has {len(sequence)} bases, the model reads {length}",
                             hint="set --length to the windows' length (0 accepts any)")
        try:
            position = int(cells.get("position", ""))
        except ValueError:
            raise MednaError(f"{where}: position {cells.get('position')!r} is not a whole number") from None
        if not 1 <= position <= len(sequence):
            raise MednaError(f"{where}: position {position} is outside the {len(sequence)}-base window "
                             "(positions are 1-based)")
        ref, alt = cells.get("ref", "").upper(), cells.get("alt", "").upper()
        if ref != sequence[position - 1]:
            raise MednaError(f"{where}: ref {ref or '(empty)'} does not match the window, which has "
                             f"{sequence[position - 1]} at position {position}")
        if len(alt) != 1 or alt not in BASES:
            raise MednaError(f"{where}: alt {alt or '(empty)'!s} must be one of A, C, G, T")
        if alt == ref:
            raise MednaError(f"{where}: alt equals ref ({ref}); a variant changes the base")
        variants.append(Variant(ident, sequence, position, ref, alt, window_id))
    if not variants:
        raise MednaError(f"{path}: a header but no variants")
    return variants


def variant_effects(model: MednaDFM, variants: list[Variant], batch_size: int = 512) -> pd.DataFrame:
    """Score each variant and rank it among all 3 L single-base changes of its window.

    Parameters
    ----------
    variants : V variants over W distinct windows of length L

    Returns
    -------
    DataFrame with :data:`COLUMNS`, one row per variant: ``p_ref``/``p_alt`` = P(modified),
    ``delta_logit`` = log-odds change, ``rank_by_drop`` = 1 for the change that lowers the
    log-odds most (ties share the better rank), ``rank_fraction`` = rank / 3 L
    """
    windows = list(dict.fromkeys(v.sequence for v in variants))
    result = ism(model, windows, batch_size)  # scores (W, L, 4)
    row_of = {sequence: i for i, sequence in enumerate(windows)}
    rows = []
    for variant in variants:
        w = row_of[variant.sequence]
        reference = float(result.reference[w])
        delta = result.delta[w]  # (L, 4), zero at the reference bases
        is_change = np.ones(delta.shape, dtype=bool)
        is_change[np.arange(len(variant.sequence)), [BASES.index(c) for c in variant.sequence]] = False
        changes = delta[is_change]
        value = float(delta[variant.position - 1, BASES.index(variant.alt)])
        rank = int((changes < value).sum()) + 1
        p_ref, p_alt = float(expit(reference)), float(expit(reference + value))
        rows.append({"id": variant.id, "window_id": variant.window_id, "position": variant.position,
                     "ref": variant.ref, "alt": variant.alt, "p_ref": p_ref, "p_alt": p_alt,
                     "delta_p": p_alt - p_ref, "delta_logit": value,
                     "rank_by_drop": rank, "n_changes": int(changes.size), "rank_fraction": rank / changes.size})
    return pd.DataFrame(rows, columns=COLUMNS)


def run_variants(checkpoint: str | os.PathLike, variants_path: str | os.PathLike, output: str | os.PathLike, *,
                 data_path: str | os.PathLike | None = None, common=None, force: bool = False) -> pd.DataFrame:
    """``medna-interp variants CKPT VARIANTS.tsv -o DIR``: check every line, score, write ``DIR/variants.tsv``."""
    from ..data.io import read_sequences
    from ..core.settings import Common, input_paths
    from ..models.loading import load_checkpoint

    started = Resources()
    common = common or Common()
    data = read_sequences(data_path, length=common.length) if data_path is not None else None
    variants = read_variants(variants_path, data, common.length)  # every line checked before any work
    paths = input_paths(checkpoint, data_path, common, variants=variants_path)
    claim_directory(output, "variants", inputs=paths.values(), force=force)
    model = load_checkpoint(checkpoint, common)
    for length in sorted({len(v.sequence) for v in variants}):
        model.require_length(length, str(variants_path))
    table = variant_effects(model, variants, max(common.batch_size, 256))
    record = provenance({"n_variants": len(variants), "precision": model.precision}, paths, common.seed)
    with step_outputs(output, "variants", record, kind="variants", started=started) as stage:
        table.to_csv(stage.path / "variants.tsv", sep="\t", index=False, float_format="%.6g")
    return table
