"""The run's prediction cache: P(modified) of every window, shared by the steps that select."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.outputs import atomic_file
from ..core.provenance import sha256_of
from ..models.predict import predict_proba


PREDICTIONS = "predictions.npz"


def cached_probabilities(run_dir, data, inputs: dict[str, str]) -> tuple[np.ndarray | None, str]:
    """P(modified) of every window, shape (N,), from ``RUN_DIR/predictions.npz`` when it was
    made from the same checkpoint and data (by checksum): CAD and CWGA both select from it.
    Returns (probabilities, or None when nothing usable is cached; the cache key)."""
    key = json.dumps({name: inputs[name] for name in ("checkpoint", "data", "negatives") if name in inputs},
                     sort_keys=True)
    path = Path(run_dir) / PREDICTIONS
    if path.exists():
        try:
            cached = np.load(path)
            if str(cached["key"]) == key and len(cached["p_modified"]) == len(data):
                return cached["p_modified"], key
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is recomputed
    return None, key


def probabilities_for(run_dir, model, data, paths: dict[str, str], batch_size: int) -> tuple[np.ndarray, str, bool]:
    """As :func:`cached_probabilities`, predicting when nothing usable is cached; the last
    value says whether the probabilities are new (and should be saved)."""
    probabilities, key = cached_probabilities(run_dir, data, input_checksums(paths))
    if probabilities is None:
        return predict_proba(model, data.sequences, batch_size), key, True
    return probabilities, key, False


def save_probabilities(run_dir, probabilities: np.ndarray, key: str) -> None:
    with atomic_file(Path(run_dir) / PREDICTIONS, "wb") as handle:
        np.savez(handle, p_modified=probabilities, key=np.array(key))


def input_checksums(paths: dict[str, str]) -> dict[str, str]:
    return {name: sha256_of(path) for name, path in paths.items()}
