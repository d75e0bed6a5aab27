"""The steps of a run directory: each loads its inputs, checks them, computes, then
writes its outputs together (staged) and records its provenance.

A run directory accumulates ``selection.tsv``, ``cad_*``, ``cwga_*``, motif and report
files, and one ``provenance.json`` with a record per step.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .device import resolve_device, seed_everything
from .errors import MednaError
from .interpret.cad import cad, scan, write_cad
from .interpret.cwga import cwga, write_cwga
from .interpret.selection import select_confident
from .io import read_sequences
from .models.checkpoint import from_pretrained
from .models.dnabert import load_dnabert
from .models.dnabert2 import load_dnabert2
from .motifs.discover import DatabaseChoice, discover
from .motifs.export import ExportOptions
from .motifs.meme import find_tool
from .motifs.streme import StremeOptions
from .motifs.tomtom import TomtomOptions
from .outputs import provenance, read_provenance, record_step, staged
from .predict import predict_proba
from .tokenize import BpeTokenizer


@dataclass
class Common:
    """Options every step shares."""

    device: str = "auto"
    batch_size: int = 64
    seed: int = 0
    length: int | None = 41
    negatives: str | None = None


def _load(checkpoint, data_path, common: Common):
    seed_everything(common.seed)
    data = read_sequences(data_path, negatives=common.negatives, length=common.length)
    data.require_labels()
    model = from_pretrained(checkpoint, resolve_device(common.device))
    return model, data


def _inputs(checkpoint, data_path, common: Common) -> dict:
    inputs = {"checkpoint": checkpoint, "data": data_path}
    if common.negatives:
        inputs["negatives"] = common.negatives
    return inputs


PREDICTIONS = "predictions.npz"


def _cached_probabilities(run_dir, data, record: dict) -> tuple[np.ndarray | None, str]:
    """P(modified) of every window, shape (N,), from ``RUN_DIR/predictions.npz`` when it was
    made from the same checkpoint and data (by checksum): CAD and CWGA both select from it.
    Returns (probabilities, or None when nothing usable is cached; the cache key)."""
    key = json.dumps({name: entry["sha256"] for name, entry in record["inputs"].items()}, sort_keys=True)
    path = Path(run_dir) / PREDICTIONS
    if path.exists():
        cached = np.load(path)
        if str(cached["key"]) == key and len(cached["p_modified"]) == len(data):
            return cached["p_modified"], key
    return None, key


def _probabilities(run_dir, model, data, record: dict, batch_size: int) -> tuple[np.ndarray, str, bool]:
    """As :func:`_cached_probabilities`, predicting when nothing usable is cached."""
    probabilities, key = _cached_probabilities(run_dir, data, record)
    if probabilities is None:
        return predict_proba(model, data.sequences, batch_size), key, True
    return probabilities, key, False


def _save_probabilities(stage: Path, probabilities: np.ndarray, key: str) -> None:
    np.savez(stage / PREDICTIONS, p_modified=probabilities, key=np.array(key))


def run_cad(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
            views=("kmer", "bpe"), layer: int = -1, heads=None, min_samples: int = 3,
            per_sequence_mean: bool = False, confidence: float = 0.9, max_per_class: int | None = None,
            kmer_encoder: str | None = None, bpe_encoder: str | None = None,
            common: Common = Common()):
    """Selection then CAD; writes ``selection.tsv``, ``cad_{view}.tsv`` and positional profiles."""
    model, data = _load(checkpoint, data_path, common)
    for view in views:  # before any computation, so a wrong --view writes nothing
        model.require_view(view)
    standalone = {}
    if kmer_encoder:
        encoder, tokenizer = load_dnabert(kmer_encoder)
        standalone["kmer"] = (encoder.to(model.device), tokenizer)
    if bpe_encoder:
        standalone["bpe"] = (load_dnabert2(bpe_encoder).to(model.device),
                             BpeTokenizer.from_file(Path(bpe_encoder) / "tokenizer.json"))
    record = provenance({}, _inputs(checkpoint, data_path, common), common.seed)
    probabilities, key = _cached_probabilities(run_dir, data, record)
    attention, fresh = None, probabilities is None
    if fresh:
        if standalone:
            probabilities = predict_proba(model, data.sequences, common.batch_size)
        else:  # the predicting pass reads the attention too: no second pass over the selection
            probabilities, attention = scan(model, data.sequences, views, layer, heads, common.batch_size)
    selection = select_confident(model, data, confidence, max_per_class, probabilities=probabilities)
    if attention is not None:
        attention = {view: read.subset(selection.source_index) for view, read in attention.items()}
    result = cad(model, selection.data.sequences, selection.labels, views=views, layer=layer, heads=heads,
                 min_samples=min_samples, per_sequence_mean=per_sequence_mean,
                 batch_size=common.batch_size, standalone=standalone, attention=attention)
    options = {**result.options, "confidence": confidence, "max_per_class": max_per_class,
               "kmer_encoder": kmer_encoder, "bpe_encoder": bpe_encoder}
    with staged(run_dir) as stage:
        selection.write(stage / "selection.tsv")
        write_cad(result, stage)
        if fresh:
            _save_probabilities(stage, probabilities, key)
    record["config"] = options
    record["selection"] = selection.counts
    record["data_metrics"] = selection.metrics
    record_step(run_dir, "cad", record)
    return result, selection


def run_cwga(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
             views=("kmer", "bpe"), top_dims: int = 40, dim_score: str = "activation", n_samples: int = 100,
             confidence: float = 0.9, baseline: str | None = None, steps: int = 50,
             internal_batch_size: int = 128, per_dim: bool = False, min_count: int = 3, progress: bool = True,
             common: Common = Common()):
    """Selection (top ``n_samples`` per class) then CWGA; writes ``cwga_selection.tsv``,
    ``dims.tsv``, ``cwga_{view}.tsv`` and ``attributions.npz``."""
    model, data = _load(checkpoint, data_path, common)
    for view in views:
        model.require_view(view)
    if top_dims > model.width:
        raise MednaError(f"--top-dims {top_dims} is larger than the model width d = {model.width}")
    record = provenance({}, _inputs(checkpoint, data_path, common), common.seed)
    probabilities, key, fresh = _probabilities(run_dir, model, data, record, common.batch_size)
    selection = select_confident(model, data, confidence, n_samples, min_per_class=2, probabilities=probabilities)
    result = cwga(model, selection.data.sequences, selection.labels, views=views, top_dims=top_dims,
                  dim_score=dim_score, baseline=baseline, steps=steps, internal_batch_size=internal_batch_size,
                  per_dim=per_dim, batch_size=common.batch_size, min_count=min_count, progress=progress)
    with staged(run_dir) as stage:
        selection.write(stage / "cwga_selection.tsv")
        write_cwga(result, stage, selection.data.ids, selection.labels)
        if fresh:
            _save_probabilities(stage, probabilities, key)
    record["config"] = {**result.options, "n_samples": n_samples, "confidence": confidence}
    record["selection"] = selection.counts
    record["data_metrics"] = selection.metrics
    record["convergence_delta"] = {view: {"mean_abs": float(abs(a.delta).mean()), "max_abs": float(abs(a.delta).max()),
                                          "mean_abs_total": float(abs(a.total).mean())}
                                   for view, a in result.attributions.items()}
    record_step(run_dir, "cwga", record)
    return result, selection


def run_data(run_dir: str | os.PathLike, length: int | None = 41):
    """The labelled windows a run was made from, as recorded by its CAD or CWGA step."""
    steps = read_provenance(run_dir).get("steps", {})
    for step in ("cad", "cwga"):
        inputs = steps.get(step, {}).get("inputs", {})
        if "data" in inputs:
            negatives = inputs.get("negatives", {}).get("path")
            return read_sequences(inputs["data"]["path"], negatives=negatives, length=length), inputs
    raise MednaError(f"{run_dir}: not a run directory with CAD or CWGA results "
                     "(run 'medna-interp cad CKPT DATA -o RUN_DIR' or 'medna-interp run' first)")


def run_motifs(run_dir: str | os.PathLike, *, export_options=None, streme=None, tomtom=None, database=None,
               meme_bin: str | None = None, raw_baseline: bool = True, shuffled_control: bool = False,
               seed: int = 0, length: int | None = 41):
    """Export -> STREME -> TOMTOM for every source, raw baseline, sites and logos into ``RUN_DIR/motifs``."""
    data, inputs = run_data(run_dir, length)
    for tool in ("streme", "tomtom"):
        find_tool(tool, meme_bin)  # fail before any work if MEME is missing
    export_options = export_options or ExportOptions(seed=seed)
    streme = streme or StremeOptions(seed=seed)
    tomtom = tomtom or TomtomOptions()
    database = database or DatabaseChoice()
    with staged(run_dir) as stage:
        result = discover(run_dir, data, stage / "motifs", export_options=export_options, streme=streme,
                          tomtom=tomtom, database=database, meme_bin=meme_bin, raw_baseline=raw_baseline,
                          shuffled_control=shuffled_control)
    options = {"export": asdict(export_options), "streme": asdict(streme), "tomtom": asdict(tomtom),
               "database": database.describe(), "raw_baseline": raw_baseline, "shuffled_control": shuffled_control}
    record = provenance(options, {"data": inputs["data"]["path"]}, seed)
    record_step(run_dir, "motifs", record)
    return result
