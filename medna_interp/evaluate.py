"""Scoring checkpoints on test sets: one metrics table, ROC points, and the
cross-dataset matrix (method.md section 7) when several of either are given."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .device import resolve_device
from .io import read_sequences
from .metrics import binary_metrics, roc_points
from .models.checkpoint import from_pretrained
from .outputs import atomic_dir

COLUMNS = ("checkpoint", "dataset", "n", "n_pos", "acc", "sn", "sp", "mcc", "auc", "auprc")


def dataset_name(path: Path) -> str:
    """``.../6mA_D.melanogaster/test.tsv`` is named by its folder, other files by their stem."""
    return path.parent.name if path.stem in ("test", "train", "valid") else path.stem


def _cell(value) -> str:
    if value is None:
        return "NA"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluate(checkpoints: list[str | os.PathLike], test_sets: list[str | os.PathLike],
             output: str | os.PathLike, batch_size: int = 64, device: str = "auto",
             length: int | None = 41) -> list[dict]:
    """Score every checkpoint on every test set; write metrics.json/.tsv, roc.tsv and matrices."""
    datasets = [(dataset_name(Path(p)), read_sequences(p, length=length)) for p in test_sets]
    for _, data in datasets:
        data.require_labels()
    torch_device = resolve_device(device)
    rows, roc = [], []
    for checkpoint in checkpoints:
        model = from_pretrained(checkpoint, torch_device)
        name = Path(checkpoint).name
        for dataset, data in datasets:
            from .predict import predict_proba

            probabilities = predict_proba(model, data.sequences, batch_size)
            metrics = binary_metrics(data.labels, probabilities)
            rows.append({"checkpoint": name, "dataset": dataset, **metrics.to_dict()})
            roc.extend((name, dataset, *point) for point in roc_points(data.labels, probabilities))

    with atomic_dir(output) as tmp:
        (tmp / "metrics.json").write_text(json.dumps(rows, indent=2) + "\n")
        with open(tmp / "metrics.tsv", "w") as handle:
            handle.write("\t".join(COLUMNS) + "\n")
            handle.writelines("\t".join(_cell(row[c]) for c in COLUMNS) + "\n" for row in rows)
        with open(tmp / "roc.tsv", "w") as handle:
            handle.write("checkpoint\tdataset\tthreshold\tfpr\ttpr\n")
            handle.writelines(f"{c}\t{d}\t{t:.6g}\t{f:.6f}\t{r:.6f}\n" for c, d, t, f, r in roc)
        if len(checkpoints) > 1 or len(test_sets) > 1:
            _write_matrices(tmp, rows)
    return rows


def _write_matrices(directory: Path, rows: list[dict]) -> None:
    checkpoints = list(dict.fromkeys(r["checkpoint"] for r in rows))
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    for metric in ("auc", "acc"):
        table = np.full((len(checkpoints), len(datasets)), np.nan)
        for r in rows:
            value = r[metric]
            table[checkpoints.index(r["checkpoint"]), datasets.index(r["dataset"])] = np.nan if value is None else value
        _write_matrix(directory / f"matrix_{metric}.tsv", checkpoints, datasets, table)
        if len(checkpoints) == len(datasets):
            # row-normalised by the diagonal: transfer relative to in-domain performance
            normalised = table / np.diag(table)[:, None]
            _write_matrix(directory / f"matrix_{metric}_normalised.tsv", checkpoints, datasets, normalised)


def _write_matrix(path: Path, rows: list[str], columns: list[str], table: np.ndarray) -> None:
    with open(path, "w") as handle:
        handle.write("\t".join(["checkpoint \\ dataset", *columns]) + "\n")
        for name, values in zip(rows, table):
            handle.write("\t".join([name, *(f"{v:.4f}" for v in values)]) + "\n")
