"""Scoring checkpoints on test sets: one metrics table, ROC points, and the
cross-dataset matrix (method.md section 7) when several of either are given, with the
transfer heatmaps of the MEDNA-DFM paper's Fig. 3E."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ..core.device import release_memory, resolve_device
from ..core.errors import MednaError
from ..core.margin import Versus
from ..core.metrics import binary_metrics, roc_points
from ..core.outputs import claim_directory, step_outputs
from ..core.precision import resolve_precision
from ..core.provenance import provenance
from ..data.io import read_sequences
from ..models.checkpoint import from_pretrained, read_checkpoint_config
from ..models.predict import predict_proba
from .baseline import checkpoint_linear, is_baseline, load_baselines

#: linear_auc, margin and verdict: the linear baseline ``train`` fitted beside a MEDNA-DFM
#: checkpoint, scored on the same test set, and what the difference means for the
#: explanations (:class:`medna_interp.core.margin.Versus`); NA for baselines and for
#: checkpoints written before the baseline was kept in them
COLUMNS = ("checkpoint", "dataset", "n", "n_pos", "acc", "sn", "sp", "mcc", "auc", "auprc", "linear_auc", "margin",
           "verdict")
#: heatmap order of the iDNA-MS modification types (the paper's Fig. 3E blocks)
MODIFICATION_ORDER = ("5hmC", "4mC", "6mA")


def dataset_name(path: Path) -> str:
    """``.../6mA_D.melanogaster/test.tsv`` is named by its folder, other files by their stem."""
    stem = path.name.removesuffix(".gz")
    stem = Path(stem).stem
    return path.parent.name if stem in ("test", "train", "valid") else stem


def unique_names(paths: list[Path], name=lambda p: p.name) -> list[str]:
    """Short display names, made unique by prefixing parent folders where two would clash
    (``x/model`` and ``y/model`` are named so, not ``model`` twice)."""
    resolved = [Path(os.path.abspath(p)) for p in paths]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise MednaError(f"{paths[i]}: given twice")
    depth = [0] * len(paths)

    def label(i: int) -> str:
        parents = resolved[i].parent.parts[1:]
        prefix = parents[max(0, len(parents) - depth[i]):] if depth[i] else ()
        return "/".join([*prefix, name(paths[i])]) if depth[i] <= len(parents) else str(resolved[i])

    while True:
        labels = [label(i) for i in range(len(paths))]
        clashing = {text for text in labels if labels.count(text) > 1}
        if not clashing:
            return labels
        for i, text in enumerate(labels):
            depth[i] += text in clashing


def _cell(value) -> str:
    if value is None:
        return "NA"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def evaluate(checkpoints: list[str | os.PathLike], test_sets: list[str | os.PathLike],
             output: str | os.PathLike, batch_size: int = 64, device: str = "auto",
             length: int | None = 41, negatives: str | os.PathLike | None = None, seed: int = 0,
             precision: str = "fp32", force: bool = False) -> list[dict]:
    """Score every checkpoint (MEDNA-DFM or baseline directory) on every test set.

    A baseline directory gives one row per baseline (``NAME:linear``, ``NAME:cnn``).

    Writes ``metrics.json``/``.tsv``, ``roc.tsv`` and, with several checkpoints or test
    sets, the cross-dataset matrices into ``output`` (see
    :func:`medna_interp.core.outputs.claim_directory` for what may be there already).

    Parameters
    ----------
    negatives : negatives for a single test set whose file then holds the positives
    length : required window length; ``None`` takes each checkpoint's own
    precision : ``fp32``, ``bf16`` or ``auto``, for MEDNA-DFM checkpoints (see :mod:`medna_interp.core.precision`)

    Returns
    -------
    list of dict : one row per (checkpoint, test set), with the columns of ``COLUMNS``
    """
    checkpoints, test_sets = [Path(c) for c in checkpoints], [Path(t) for t in test_sets]
    if negatives is not None and len(test_sets) != 1:
        raise MednaError("negatives can go with one test set only (its file then holds the positives)")
    claim_directory(output, "evaluation", inputs=[*checkpoints, *test_sets, negatives], force=force)
    for checkpoint in checkpoints:  # every checkpoint readable before the first is scored
        if not is_baseline(checkpoint):
            read_checkpoint_config(checkpoint)
    dataset_names = unique_names(test_sets, dataset_name)
    checkpoint_names = unique_names(checkpoints)
    datasets = [(name, read_sequences(p, length=length, negatives=negatives))
                for name, p in zip(dataset_names, test_sets)]
    for _, data in datasets:
        data.require_labels()
    torch_device = resolve_device(device)
    precision = resolve_precision(precision, torch_device)
    rows, roc, sources = [], [], {}
    for name, checkpoint in zip(checkpoint_names, checkpoints):  # one model in memory at a time
        for label, window_length, predict, linear in _predictors(name, checkpoint, torch_device, batch_size,
                                                                 precision):
            sources[label] = _source_dataset(checkpoint)
            for dataset, data in datasets:
                if window_length is not None and data.length != window_length:
                    raise MednaError(f"{data.source}: windows are {data.length} bp, but {label} was trained on "
                                     f"{window_length}-bp windows")
                probabilities = predict(data.sequences)
                metrics = binary_metrics(data.labels, probabilities)
                versus = {"linear_auc": None, "margin": None, "verdict": None}
                if linear is not None:
                    judged = Versus(metrics.auc, binary_metrics(data.labels, linear.predict_proba(data.sequences)).auc,
                                    on=dataset)
                    versus = {"linear_auc": judged.baseline_auc, "margin": judged.margin, "verdict": judged.verdict}
                rows.append({"checkpoint": label, "dataset": dataset, **metrics.to_dict(), **versus})
                roc.extend((label, dataset, *point) for point in roc_points(data.labels, probabilities))
                release_memory()

    inputs = {f"checkpoint:{n}": p for n, p in zip(checkpoint_names, checkpoints)} | \
        {f"test:{n}": p for n, p in zip(dataset_names, test_sets)} | ({"negatives": negatives} if negatives else {})
    record = provenance({"length": length, "precision": precision}, inputs, seed)
    with step_outputs(output, "evaluate", record, kind="evaluation") as stage:
        tmp = stage.path
        (tmp / "metrics.json").write_text(json.dumps(rows, indent=2) + "\n")
        with open(tmp / "metrics.tsv", "w") as handle:
            handle.write("\t".join(COLUMNS) + "\n")
            handle.writelines("\t".join(_cell(row[c]) for c in COLUMNS) + "\n" for row in rows)
        with open(tmp / "roc.tsv", "w") as handle:
            handle.write("checkpoint\tdataset\tthreshold\tfpr\ttpr\n")
            handle.writelines(f"{c}\t{d}\t{t:.6g}\t{f:.6f}\t{r:.6f}\n" for c, d, t, f, r in roc)
        if len(checkpoints) > 1 or len(test_sets) > 1:
            _write_matrices(tmp, rows)
            _write_transfer(tmp, rows, sources, dict(zip(dataset_names, map(dataset_name, test_sets))))
    return rows


def _source_dataset(checkpoint: Path) -> str | None:
    """The name (as :func:`dataset_name` gives it) of the data a checkpoint or baseline was trained on, if recorded."""
    try:
        inputs = json.loads((checkpoint / "config.json").read_text())["provenance"]["inputs"]
        return dataset_name(Path(inputs["train"]["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def modification_type(name: str) -> str | None:
    """``5hmC`` of ``5hmC_M.musculus``: the iDNA-MS naming convention; None for other names."""
    match = re.match(r"(\d+[a-zA-Z]+)_", name)
    return match.group(1) if match else None


def _by_modification(names: list[str], type_of) -> list[str]:
    """``names`` grouped by modification type in :data:`MODIFICATION_ORDER`, others after, each group as given."""
    rank = {kind: i for i, kind in enumerate(MODIFICATION_ORDER)}
    return sorted(names, key=lambda n: rank.get(type_of(n), len(rank)))


def _write_transfer(directory: Path, rows: list[dict], sources: dict[str, str | None], raw_names: dict[str, str]) -> None:
    """``transfer.tsv`` (ACC, AUC, MCC per source and target, and ACC over the source's own),
    ``transfer_normalised.tsv`` (that ratio as a matrix) and both heatmaps (PNG and SVG).

    A checkpoint's own ACC is its ACC on the test set named like the data it was trained on
    (``config.json``); without one among the test sets its normalised row is NA."""
    own = {r["checkpoint"]: r["acc"] for r in rows
           if sources.get(r["checkpoint"]) is not None and raw_names[r["dataset"]] == sources[r["checkpoint"]]}
    checkpoints = _by_modification(list(dict.fromkeys(r["checkpoint"] for r in rows)),
                                   lambda c: modification_type(sources.get(c) or ""))
    datasets = _by_modification(list(dict.fromkeys(r["dataset"] for r in rows)),
                                lambda d: modification_type(raw_names[d]))
    table = {(r["checkpoint"], r["dataset"]): r for r in rows}
    raw = np.array([[table[c, d]["acc"] for d in datasets] for c in checkpoints], dtype=float)
    normalised = raw / np.array([own.get(c) or np.nan for c in checkpoints])[:, None]
    with open(directory / "transfer.tsv", "w") as handle:
        handle.write("checkpoint\tsource\tdataset\tacc\tauc\tmcc\tacc_normalised\n")
        for i, c in enumerate(checkpoints):
            for j, d in enumerate(datasets):
                ratio = None if np.isnan(normalised[i, j]) else float(normalised[i, j])
                handle.write("\t".join([c, sources.get(c) or "NA", d,
                                        *(_cell(table[c, d][k]) for k in ("acc", "auc", "mcc")), _cell(ratio)]) + "\n")
    _write_matrix(directory / "transfer_normalised.tsv", checkpoints, datasets, normalised)
    _heatmap(raw, checkpoints, datasets, "ACC on the target", directory / "transfer")
    _heatmap(normalised, checkpoints, datasets, "ACC on the target / ACC on the source's own test set",
             directory / "transfer_normalised")


def _heatmap(table: np.ndarray, rows: list[str], columns: list[str], title: str, stem: Path) -> None:
    from ..core.figures import plt, save_figure

    figure, axis = plt.subplots(figsize=(2.5 + 1.1 * len(columns), 2.2 + 0.6 * len(rows)))
    image = axis.imshow(np.ma.masked_invalid(table), cmap="viridis", aspect="auto")
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = table[i, j]
            axis.text(j, i, "NA" if np.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=8,
                      color="grey" if np.isnan(value) else "white" if value < np.nanmean(table) else "black")
    axis.set_xticks(range(len(columns)), columns, rotation=40, ha="right", fontsize=8)
    axis.set_yticks(range(len(rows)), rows, fontsize=8)
    axis.set_xlabel("target (test set)")
    axis.set_ylabel("source (checkpoint)")
    axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axis, shrink=0.8)
    save_figure(figure, stem)


def _predictors(name: str, checkpoint: Path, device, batch_size: int, precision: str):
    """(label, window length, predict function, linear baseline to judge it by) of a checkpoint,
    or of each model of a baseline directory (judged by nothing)."""
    if is_baseline(checkpoint):
        baselines = load_baselines(checkpoint)
        return [(f"{name}:{kind}", baselines.linear.length, predictor.predict_proba, None)
                for kind, predictor in baselines.predictors().items()]
    linear = checkpoint_linear(read_checkpoint_config(checkpoint))
    model = from_pretrained(checkpoint, device, precision)
    return [(name, model.window_length, lambda sequences: predict_proba(model, sequences, batch_size), linear)]


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
