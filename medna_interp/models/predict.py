"""Batched inference: probabilities and intermediate representations for many windows."""

from __future__ import annotations

import os

import numpy as np
import torch

from ..core.device import trim_heap
from ..core.outputs import atomic_file
from ..data.io import SequenceSet
from .medna_dfm import MednaDFM

#: batches between heap trims in :func:`collect`: a trim takes microseconds, a batch milliseconds
TRIM_EVERY = 32


def collect(model: MednaDFM, sequences: list[str], fields: tuple[str, ...] = ("probabilities",),
            batch_size: int = 64) -> dict[str, np.ndarray]:
    """Run the model in batches (at the model's ``precision``) and gather named outputs.

    Parameters
    ----------
    fields
        Names of :class:`MednaOutput` attributes (``probabilities``, ``logits``,
        ``h_kmer``, ``h_mod``, ...).

    Returns
    -------
    dict of field name to array of shape (N, ...) in float32
    """
    model.eval()
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in fields}
    with torch.inference_mode():
        for batch, start in enumerate(range(0, len(sequences), batch_size), 1):
            output = model.run(model.tokenize(sequences[start : start + batch_size]))
            for name in fields:
                chunks[name].append(getattr(output, name).float().cpu().numpy())
            if batch % TRIM_EVERY == 0:
                trim_heap()
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def predict_proba(model: MednaDFM, sequences: list[str], batch_size: int = 64) -> np.ndarray:
    """P(modified) for each window, shape (N,)."""
    return collect(model, sequences, ("probabilities",), batch_size)["probabilities"]


#: the start of the header :func:`write_predictions` writes (how a rerun recognises its own file)
HEADER = "id\tsequence\tp_modified\tlabel_pred"


def write_predictions(path: str | os.PathLike, data: SequenceSet, probabilities: np.ndarray,
                      threshold: float = 0.5) -> None:
    """TSV with id, sequence, p_modified, label_pred (and label when known), written atomically."""
    with atomic_file(path) as handle:
        handle.write(HEADER + ("\tlabel" if data.labels is not None else "") + "\n")
        for i, (ident, sequence, p) in enumerate(zip(data.ids, data.sequences, probabilities)):
            row = [ident, sequence, f"{p:.6f}", str(int(p > threshold))]
            if data.labels is not None:
                row.append(str(int(data.labels[i])))
            handle.write("\t".join(row) + "\n")
