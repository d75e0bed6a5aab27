"""What a run directory was made from: its recorded inputs, windows and discovered motifs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import MednaError
from ..core.provenance import read_provenance
from ..data.io import read_sequences
from .record import check_consistency


def run_inputs(run_dir: str | os.PathLike) -> dict:
    """The inputs (data, checkpoint, ...) a run was made from, as recorded by its CAD step or,
    in a run made by ``cwga`` alone, its CWGA step."""
    steps = read_provenance(run_dir).get("steps", {}) if Path(run_dir).is_dir() else {}
    for step in ("cad", "cwga"):
        inputs = steps.get(step, {}).get("inputs", {})
        if "data" in inputs:
            return inputs
    raise MednaError(f"{run_dir}: not a run directory with CAD or CWGA results",
                     hint="run 'medna-interp cad CKPT DATA -o RUN_DIR' or 'medna-interp run' first")


def run_data(run_dir: str | os.PathLike, length: int | None = 41):
    """The labelled windows a run was made from, and the inputs of :func:`run_inputs`."""
    inputs = run_inputs(run_dir)
    return recorded_windows(inputs, length), inputs


def recorded_windows(inputs: dict, length: int | None):
    return read_sequences(inputs["data"]["path"], negatives=inputs.get("negatives", {}).get("path"), length=length)


def discovered_motifs(run_dir: Path, purpose: str):
    """(the run's checked provenance, the rows of ``motifs/motifs.tsv`` that name a motif)."""
    import pandas as pd

    payload = check_consistency(run_dir, ("cad", "cwga", "motifs"))
    table_path = run_dir / "motifs" / "motifs.tsv"
    if "motifs" not in payload["steps"] or not table_path.exists():
        raise MednaError(f"{run_dir}: no motifs to {purpose}", hint=f"run 'medna-interp motifs {run_dir}' first")
    motifs = pd.read_csv(table_path, sep="\t", keep_default_na=False)
    return payload, motifs[motifs.motif != ""]


def run_motif_matrices(run_dir: str | os.PathLike) -> dict[str, Any]:
    """motif id (as in ``motifs.tsv``) -> its STREME :class:`~medna_interp.motifs.motif.Motif`."""
    from ..motifs.motif import read_meme

    out = {}
    for streme in sorted((Path(run_dir) / "motifs").glob("*/streme/streme.txt")):
        label = streme.parent.parent.name
        for motif in read_meme(streme):
            out[f"{label}:{motif.id}"] = motif
    return out
