"""The steps of a run directory: each checks its output and options, loads its inputs,
computes, then writes its outputs together (staged) and records its provenance.

A run directory accumulates ``selection.tsv``, ``cad_*``, ``cwga_*``, motif and report
files, and one ``provenance.json`` with a record per step. Each record holds the step's
*fingerprint* (what determines its results: options, input checksums, and what it read
of its upstream steps), the checksums of the files it wrote, and the identity
(:func:`result_id`) of each upstream step when it read it, so that stale or mixed
results can be told apart from current ones (:func:`check_consistency`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .device import resolve_device, seed_everything
from .errors import MednaError
from .composition import composition
from .interpret.cad import cad, check_gc_strata, scan, write_cad
from .interpret.cwga import cwga, write_cwga
from .interpret.selection import MIN_SELECTED, select_confident
from .io import SequenceSet, read_sequences
from .models.attention import check_heads, layer_index
from .models.checkpoint import from_pretrained
from .models.dnabert import load_dnabert
from .models.dnabert2 import load_dnabert2
from .models.medna_dfm import MednaDFM
from .motifs.discover import DatabaseChoice, check_controls, discover
from .motifs.export import ExportOptions
from .motifs.meme import find_tool
from .motifs.motif import read_meme
from .motifs.streme import StremeOptions
from .motifs.tomtom import BACKENDS, TomtomOptions
from .outputs import (PROVENANCE, Resources, atomic_file, changed_outputs, claim_directory, provenance,
                      read_provenance, sha256_of, step_outputs)
from .precision import resolve_precision
from .predict import predict_proba
from .tokenize import BpeTokenizer

STEPS = ("cad", "cwga", "motifs", "effects", "insertion", "embed", "report")
#: the steps whose outputs each step reads
UPSTREAM = {"cad": (), "cwga": (), "motifs": ("cad", "cwga", "ism"), "effects": ("cad", "cwga", "motifs"),
            "insertion": ("cad", "cwga", "motifs"), "faithfulness": ("cad", "cwga", "ism"), "embed": (),
            "report": ("cad", "cwga", "motifs", "effects", "insertion", "ism", "faithfulness", "embed")}
#: the steps that run the model, and so record (and depend on) its precision
MODEL_STEPS = frozenset({"cad", "cwga", "effects", "insertion", "ism", "faithfulness", "embed"})
#: options that change how a step runs or what it prints, never what it computes
EXECUTION_ONLY = frozenset({"progress", "device", "batch_size", "internal_batch_size", "meme_bin"})


class StepResult(NamedTuple):
    """What :func:`run_cad` and :func:`run_cwga` return: the full ``result``
    (:class:`CadResult` or :class:`CwgaResult`) and the ``selection`` it explains."""

    result: Any
    selection: Any


@dataclass(frozen=True)
class Common:
    """Options every step shares."""

    device: str = "auto"
    batch_size: int = 64
    seed: int = 0
    length: int | None = 41
    negatives: str | None = None
    #: ``fp32``, ``bf16`` or ``auto``; results record the precision it resolves to
    precision: str = "fp32"

    def model_precision(self) -> str:
        """The precision the model runs at on this device (``auto`` resolved)."""
        return resolve_precision(self.precision, resolve_device(self.device))

    def recorded(self, step: str) -> dict[str, Any]:
        """What ``step``'s config and fingerprint record of these options."""
        precision = {"precision": self.model_precision()} if step in MODEL_STEPS else {}
        return {"seed": self.seed, "length": self.length, **precision}


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def result_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without the execution-only ones, as plain JSON values."""
    return {k: _plain(v) for k, v in sorted(options.items()) if k not in EXECUTION_ONLY}


def fingerprint(step: str, options: dict[str, Any], inputs: dict[str, str], upstream: dict[str, str]) -> str:
    """SHA-256 of what determines a step's results.

    Parameters
    ----------
    step : the step's name
    options : its options (execution-only ones are dropped here)
    inputs : input name -> checksum
    upstream : upstream step -> that step's fingerprint
    """
    payload = {"step": step, "options": result_options(options), "inputs": inputs, "upstream": upstream}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def result_id(record: dict) -> str:
    """What downstream steps record of an upstream step: its fingerprint and its outputs'
    checksums, so a recomputed step with other bytes makes them stale."""
    payload = {"fingerprint": record.get("fingerprint"), "outputs": record.get("outputs", {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def upstream_ids(records: dict, step: str) -> dict[str, str]:
    """upstream step -> :func:`result_id` of what it recorded (empty when it has not run)."""
    return {name: result_id(records[name]) if name in records else "" for name in UPSTREAM[step]}


def input_paths(checkpoint, data_path, common: Common, **extra) -> dict[str, str]:
    """input name -> path of a step's inputs (checkpoint, data, negatives, stand-alone encoders), leaving out absent ones."""
    paths = {"checkpoint": checkpoint, "data": data_path, "negatives": common.negatives, **extra}
    return {name: str(path) for name, path in paths.items() if path is not None}


#: arguments of the step functions that are not step options
_NOT_OPTIONS = ("common", "model", "force", "seed", "length")


def full_options(step: str, options: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """``options`` of a step with every default filled in, as the step itself sees them
    (the defaults are read from the step function's signature)."""
    if step == "report":
        return dict(options)
    function = {"cad": run_cad, "cwga": run_cwga, "motifs": run_motifs, "effects": run_effects,
                "insertion": run_insertion_step, "embed": run_embed}[step]
    defaults = {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()
                if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in _NOT_OPTIONS}
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"unknown {step} options: {', '.join(unknown)}")
    filled = {**defaults, **options}
    if step == "motifs":  # run_motifs takes None for "the default object"
        made = {"export_options": ExportOptions(seed=seed), "streme": StremeOptions(seed=seed),
                "tomtom": TomtomOptions(), "database": DatabaseChoice()}
        filled.update({k: v for k, v in made.items() if filled[k] is None})
    return filled


def expected_fingerprint(step: str, run_dir, options: dict[str, Any], common: Common,
                         checkpoint=None, data_path=None) -> str:
    """The fingerprint ``step`` would record if it ran now with these options."""
    options = full_options(step, options, common.seed)
    step_options = options if step == "report" else {**options, **common.recorded(step)}
    if step in ("cad", "cwga"):
        extra = {k: options.get(k) for k in ("kmer_encoder", "bpe_encoder")}
        inputs = {name: sha256_of(path) for name, path in
                  input_paths(checkpoint, data_path, common, **extra).items()}
        return fingerprint(step, step_options, inputs, {})
    if step == "embed":
        inputs = {name: sha256_of(path) for name, path in
                  _embed_inputs(run_dir, checkpoint, data_path, common, options["color_by"]).items()}
        return fingerprint(step, step_options, inputs, {})
    recorded = read_provenance(run_dir)["steps"] if Path(run_dir).exists() else {}
    return fingerprint(step, step_options, {}, upstream_ids(recorded, step))


def is_up_to_date(run_dir, step: str, expected: str) -> bool:
    """True when ``step`` recorded ``expected`` and every output it wrote is unchanged."""
    run_dir = Path(run_dir)
    if not (run_dir / PROVENANCE).exists():
        return False
    records = read_provenance(run_dir)["steps"]
    record = records.get(step)
    return bool(record) and record.get("fingerprint") == expected and bool(record.get("outputs")) \
        and not changed_outputs(run_dir, record) \
        and all(_same_upstream(records, name, value) for name, value in record.get("upstream", {}).items())


def _same_upstream(records: dict, name: str, recorded: str) -> bool:
    """Whether upstream step ``name`` is still what a step recorded ("" = it had not run)."""
    return (result_id(records[name]) if name in records else "") == recorded


def check_consistency(run_dir, steps: tuple[str, ...] = STEPS[:3]) -> dict:
    """The run's provenance, after checking that ``steps`` exist, are unchanged and fit together.

    Raises
    ------
    MednaError : naming the stale or altered step and the command that brings it up to date
    """
    run_dir = Path(run_dir)
    if not (run_dir / PROVENANCE).exists():
        raise MednaError(f"{run_dir}: not a run directory (no {PROVENANCE})",
                         hint=f"create one with 'medna-interp run CKPT DATA -o {run_dir}'")
    payload = read_provenance(run_dir)
    records = payload["steps"]
    cad, cwga = records.get("cad"), records.get("cwga")
    if cad and cwga and "cad" in steps and "cwga" in steps:
        _check_same_inputs(run_dir, cad, cwga)
    for step in steps:
        record = records.get(step)
        if record is None:
            continue  # missing steps are reported by the caller, which knows what it needs
        how = _command_of(record, step, run_dir)
        altered = changed_outputs(run_dir, record)
        if altered:
            raise MednaError(f"{run_dir}: {', '.join(altered[:3])} changed or vanished after the {step} step "
                             f"wrote it; rerun that step: {how}")
        for name, value in record.get("upstream", {}).items():
            if not _same_upstream(records, name, value):
                what = f"before {name} ran" if not value else f"from an earlier {name} result"
                raise MednaError(f"{run_dir}: the {step} step was made {what}; rerun it: {how}")
    return payload


def _check_same_inputs(run_dir, cad: dict, cwga: dict) -> None:
    used = cad.get("inputs", {})
    fix = " ".join(["medna-interp cwga", used.get("checkpoint", {}).get("path", "CKPT"),
                    used.get("data", {}).get("path", "DATA"), "-o", str(run_dir)]
                   + (["--negatives", used["negatives"]["path"]] if "negatives" in used else []))
    for name in ("checkpoint", "data", "negatives"):
        a, b = cad.get("inputs", {}).get(name, {}), cwga.get("inputs", {}).get(name, {})
        if a.get("sha256") != b.get("sha256"):
            raise MednaError(f"{run_dir}: cad and cwga were run on different {name} "
                             f"({a.get('path', 'none')} vs {b.get('path', 'none')}); rerun cwga on what cad "
                             f"used: {fix} (or everything: medna-interp run CKPT DATA -o {run_dir})")
    if cad.get("config", {}).get("length") != cwga.get("config", {}).get("length"):
        raise MednaError(f"{run_dir}: cad and cwga read windows of different lengths; rerun cwga: {fix}")


def _command_of(record: dict, step: str, run_dir) -> str:
    """The command line that made ``record``, or one that remakes it with default options."""
    if record.get("via") == "cli" and record.get("command"):
        return " ".join(record["command"])
    inputs = record.get("inputs", {})
    if step in ("cad", "cwga"):
        negatives = f" --negatives {inputs['negatives']['path']}" if "negatives" in inputs else ""
        return (f"medna-interp {step} {inputs.get('checkpoint', {}).get('path', 'CKPT')} "
                f"{inputs.get('data', {}).get('path', 'DATA')} -o {run_dir}{negatives}")
    if step == "effects":
        return f"medna-interp mutate --from-run {run_dir}"
    if step == "insertion":
        return f"medna-interp insert --from-run {run_dir}"
    if step == "embed":
        return (f"medna-interp embed {inputs.get('checkpoint', {}).get('path', 'CKPT')} "
                f"{inputs.get('data', {}).get('path', 'DATA')} -o {run_dir}")
    return f"medna-interp {step} {run_dir}"


# ---------------------------------------------------------------- loading and checks

def load_checkpoint(checkpoint, common: Common) -> MednaDFM:
    """The checkpoint on the chosen device, with every generator seeded."""
    seed_everything(common.seed)
    return from_pretrained(checkpoint, resolve_device(common.device), common.precision)


def load_data(data_path, common: Common, model: MednaDFM | None = None) -> SequenceSet:
    """Labelled windows of the length the model was trained on."""
    data = read_sequences(data_path, negatives=common.negatives, length=common.length)
    data.require_labels()
    if model is not None:
        model.require_length(data.length, str(data_path))
    return data


def check_cad_options(model: MednaDFM, views, layer: int, heads, min_samples: int, confidence: float,
                      max_per_class: int | None, kmer_encoder=None, bpe_encoder=None) -> dict:
    """Every CAD option against the model; returns the stand-alone encoders to read from."""
    _check_probability(confidence, "confidence")
    if min_samples < 1:
        raise MednaError(f"min_samples must be at least 1, got {min_samples}")
    if max_per_class is not None and max_per_class < 1:
        raise MednaError(f"max_per_class must be at least 1, got {max_per_class}")
    standalone = {}
    if kmer_encoder:
        encoder, tokenizer = load_dnabert(kmer_encoder)
        standalone["kmer"] = (encoder.to(model.device), tokenizer)
    if bpe_encoder:
        standalone["bpe"] = (load_dnabert2(bpe_encoder).to(model.device),
                             BpeTokenizer.from_file(Path(bpe_encoder) / "tokenizer.json"))
    for view in views:
        model.require_view(view)
        encoder = standalone[view][0] if view in standalone else \
            (model.kmer_encoder if view == "kmer" else model.bpe_encoder)
        layer_index(encoder, layer, view)
        check_heads(encoder, heads, view)
    return standalone


def check_cwga_options(model: MednaDFM, views, top_dims: int, n_samples: int, confidence: float, steps: int,
                       internal_batch_size: int, min_count: int, gc_strata: int = 1) -> None:
    """Every CWGA option against the model (views, top_dims within its width, counts), before any work."""
    _check_probability(confidence, "confidence")
    for view in views:
        model.require_view(view)
    if not 1 <= top_dims <= model.width:
        raise MednaError(f"top_dims {top_dims} is larger than the model width d = {model.width}",
                         hint=f"choose --top-dims between 1 and {model.width}")
    for name, value, least in (("n_samples", n_samples, 2), ("steps", steps, 1),
                               ("internal_batch_size", internal_batch_size, 1), ("min_count", min_count, 1)):
        if value < least:
            raise MednaError(f"{name} must be at least {least}, got {value}")
    if gc_strata > n_samples:
        raise MednaError(f"gc_strata {gc_strata} is larger than n_samples {n_samples}, the most windows CWGA "
                         f"explains per class", hint="choose --gc-strata at most --n-samples")


def check_motif_options(database: DatabaseChoice, meme_bin: str | None, backend: str = "meme",
                        controls: str = "negatives") -> None:
    """MEME tools, the TOMTOM backend, the controls and the motif database, before any STREME run."""
    check_controls(controls)
    if backend not in BACKENDS:
        raise MednaError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    find_tool("streme", meme_bin)
    if backend == "meme":
        find_tool("tomtom", meme_bin)
    else:
        try:
            import memelite  # noqa: F401
        except ImportError:
            raise MednaError("the memelite backend needs the memelite package",
                             hint="pip install 'medna-interp[memelite]', or use --backend meme") from None
    read_meme(database.path())


def _check_probability(value: float, name: str) -> None:
    if not 0.0 <= value < 1.0:
        raise MednaError(f"{name} must be in [0, 1), got {value}")


# ---------------------------------------------------------------- the prediction cache

PREDICTIONS = "predictions.npz"


def _cached_probabilities(run_dir, data, inputs: dict[str, str]) -> tuple[np.ndarray | None, str]:
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


def _probabilities(run_dir, model, data, paths: dict[str, str], batch_size: int) -> tuple[np.ndarray, str, bool]:
    """As :func:`_cached_probabilities`, predicting when nothing usable is cached; the last
    value says whether the probabilities are new (and should be saved)."""
    probabilities, key = _cached_probabilities(run_dir, data, _checksums(paths))
    if probabilities is None:
        return predict_proba(model, data.sequences, batch_size), key, True
    return probabilities, key, False


def _save_probabilities(run_dir, probabilities: np.ndarray, key: str) -> None:
    with atomic_file(Path(run_dir) / PREDICTIONS, "wb") as handle:
        np.savez(handle, p_modified=probabilities, key=np.array(key))


def _checksums(paths: dict[str, str]) -> dict[str, str]:
    return {name: sha256_of(path) for name, path in paths.items()}


# ---------------------------------------------------------------- the steps

def run_cad(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
            views=("kmer", "bpe"), layer: int = -1, heads=None, min_samples: int = 3,
            per_sequence_mean: bool = False, confidence: float = 0.9, max_per_class: int | None = None,
            min_selected: int = MIN_SELECTED, kmer_encoder: str | None = None, bpe_encoder: str | None = None,
            gc_strata: int = 5, common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Selection then CAD; writes ``selection.tsv``, ``cad_{view}.tsv``, positional profiles and
    ``composition.tsv`` (positives against negatives in the data and in the selection).

    Returns
    -------
    StepResult : (CadResult, Selection)
    """
    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common, kmer_encoder=kmer_encoder, bpe_encoder=bpe_encoder)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    standalone = check_cad_options(model, views, layer, heads, min_samples, confidence, max_per_class,
                                   kmer_encoder, bpe_encoder)
    check_gc_strata(gc_strata, data.require_labels(), f"windows in {data.source}")
    options = dict(views=list(views), layer=layer, heads=heads, min_samples=min_samples,
                   per_sequence_mean=per_sequence_mean, confidence=confidence, max_per_class=max_per_class,
                   min_selected=min_selected, kmer_encoder=kmer_encoder, bpe_encoder=bpe_encoder, gc_strata=gc_strata)
    checksums = _checksums(paths)
    probabilities, key = _cached_probabilities(run_dir, data, checksums)
    attention, fresh = None, probabilities is None
    if fresh:
        if standalone:
            probabilities = predict_proba(model, data.sequences, common.batch_size)
        else:  # the predicting pass reads the attention too: no second pass over the selection
            probabilities, attention = scan(model, data.sequences, views, layer, heads, common.batch_size)
    selection = select_confident(model, data, confidence, max_per_class, probabilities=probabilities,
                                 min_selected=min_selected)
    if attention is not None:
        attention = {view: read.subset(selection.source_index) for view, read in attention.items()}
    result = cad(model, selection.data.sequences, selection.labels, views=views, layer=layer, heads=heads,
                 min_samples=min_samples, per_sequence_mean=per_sequence_mean,
                 batch_size=common.batch_size, standalone=standalone, attention=attention, gc_strata=gc_strata)
    report = composition({"data": (data.sequences, data.require_labels()),
                          "selection": (selection.data.sequences, selection.labels)})
    record = _record("cad", options, paths, common, {}, reported=result.options)
    record.update(selection=selection.counts, data_metrics=selection.metrics, composition_warnings=report.warnings)
    with step_outputs(run_dir, "cad", record, started=started) as stage:
        selection.write(stage.path / "selection.tsv")
        write_cad(result, stage.path)
        report.table.to_csv(stage.path / "composition.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        _save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


def run_cwga(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
             views=("kmer", "bpe"), top_dims: int = 40, dim_score: str = "activation", n_samples: int = 100,
             confidence: float = 0.9, min_selected: int = MIN_SELECTED, baseline: str | None = None,
             steps: int = 50,
             internal_batch_size: int = 128, per_dim: bool = False, min_count: int = 3, progress: bool = True,
             gc_strata: int = 5, strand_check: bool = False, rc_average: bool = False,
             common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Selection (top ``n_samples`` per class) then CWGA; writes ``cwga_selection.tsv``,
    ``dims.tsv``, ``cwga_{view}.tsv`` and ``attributions.npz``.

    ``strand_check`` also explains every selected window's reverse complement with the same
    dimensions and weights and writes ``strand_cwga.tsv`` (:mod:`medna_interp.interpret.strand`);
    ``rc_average`` (for strand-symmetric marks) does the same and stores each window's per-base
    attributions as the mean of the forward and the mapped-back reverse strand.

    Returns
    -------
    StepResult : (CwgaResult, Selection)
    """
    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    check_cwga_options(model, views, top_dims, n_samples, confidence, steps, internal_batch_size, min_count,
                       gc_strata)
    check_gc_strata(gc_strata, data.require_labels(), f"windows in {data.source}")
    options = dict(views=list(views), top_dims=top_dims, dim_score=dim_score, n_samples=n_samples,
                   confidence=confidence, min_selected=min_selected, baseline=baseline, steps=steps, per_dim=per_dim,
                   min_count=min_count, gc_strata=gc_strata, strand_check=strand_check, rc_average=rc_average)
    probabilities, key, fresh = _probabilities(run_dir, model, data, paths, common.batch_size)
    selection = select_confident(model, data, confidence, n_samples, min_per_class=2, probabilities=probabilities,
                                 min_selected=min_selected)
    result = cwga(model, selection.data.sequences, selection.labels, views=views, top_dims=top_dims,
                  dim_score=dim_score, baseline=baseline, steps=steps, internal_batch_size=internal_batch_size,
                  per_dim=per_dim, batch_size=common.batch_size, min_count=min_count, progress=progress,
                  gc_strata=gc_strata)
    strand = None
    if strand_check or rc_average:
        strand = _cwga_strands(model, selection.data.sequences, selection.labels, result, baseline, steps,
                               internal_batch_size, common.batch_size)
        if rc_average:
            for view, attribution in result.attributions.items():
                attribution.per_base = (attribution.per_base + strand.mapped_back[f"cwga_{view}"]) / 2
    record = _record("cwga", options, paths, common, {}, reported=result.options)
    record.update(selection=selection.counts, data_metrics=selection.metrics)
    if strand is not None:
        record["strand"] = {"consistent": strand.consistent, "rc_average": rc_average,
                            "methods": strand.table.to_dict("records")}
    record["convergence_delta"] = {view: {"mean_abs": float(abs(a.delta).mean()), "max_abs": float(abs(a.delta).max()),
                                          "mean_abs_total": float(abs(a.total).mean())}
                                   for view, a in result.attributions.items()}
    with step_outputs(run_dir, "cwga", record, started=started) as stage:
        selection.write(stage.path / "cwga_selection.tsv")
        write_cwga(result, stage.path, selection.data.ids, selection.labels)
        if strand is not None:
            strand.table.to_csv(stage.path / "strand_cwga.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        _save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


def _cwga_strands(model: MednaDFM, sequences: list[str], labels: np.ndarray, result, baseline, steps: int,
                  internal_batch_size: int, batch_size: int):
    """CWGA's strand check: each view's attributions of the reverse-complement windows, with the
    forward ranking's dimensions and weights, mapped back and compared."""
    from .interpret.cwga import attribute_view
    from .interpret.strand import strand_consistency

    def explainer(view: str):
        return lambda windows: attribute_view(model, windows, view, result.ranking.dims, result.ranking.weights,
                                              baseline=baseline, steps=steps,
                                              internal_batch_size=internal_batch_size).per_base

    views = list(result.attributions)
    return strand_consistency(model, sequences, labels, {f"cwga_{v}": result.attributions[v].per_base for v in views},
                              {f"cwga_{v}": explainer(v) for v in views}, batch_size)


def _record(step: str, options: dict, paths: dict[str, str], common: Common, upstream: dict[str, str],
            fingerprint_inputs: bool = True, reported: dict | None = None) -> dict:
    """A step's provenance with its fingerprint (see :func:`expected_fingerprint`);
    ``reported`` adds what the computation reported of its options to the config."""
    config = {**result_options(reported or {}), **result_options(options), **common.recorded(step)}
    record = provenance(config, paths, common.seed)
    inputs = {name: entry["sha256"] for name, entry in record["inputs"].items()} if fingerprint_inputs else {}
    record["fingerprint"] = fingerprint(step, {**options, **common.recorded(step)}, inputs, upstream)
    record["upstream"] = upstream
    record["execution"] = {"device": common.device, "batch_size": common.batch_size}
    return record


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
    return _recorded_windows(inputs, length), inputs


def _recorded_windows(inputs: dict, length: int | None):
    return read_sequences(inputs["data"]["path"], negatives=inputs.get("negatives", {}).get("path"), length=length)


def run_motifs(run_dir: str | os.PathLike, *, export_options=None, streme=None, tomtom=None, database=None,
               meme_bin: str | None = None, raw_baseline: bool = True, controls: str = "negatives",
               match_cpg: bool = False,
               backend: str = "meme", linear: bool = True, permute_labels: bool = False, seed: int = 0,
               length: int | None = 41):
    """Export -> STREME -> TOMTOM for every source, raw baselines, sites and logos into ``RUN_DIR/motifs``;
    with ``permute_labels`` the same under permuted labels into ``RUN_DIR/motifs/null``
    (see :func:`medna_interp.motifs.discover.discover`).

    Returns
    -------
    MotifsResult
    """
    payload = check_consistency(run_dir, ("cad", "cwga", "ism"))
    data, inputs = run_data(run_dir, length)
    options = full_options("motifs", dict(export_options=export_options, streme=streme, tomtom=tomtom,
                                          database=database, raw_baseline=raw_baseline,
                                          controls=controls, match_cpg=match_cpg, backend=backend, linear=linear,
                                          permute_labels=permute_labels), seed)
    export_options, streme, tomtom, database = (options[k] for k in ("export_options", "streme", "tomtom", "database"))
    check_motif_options(database, meme_bin, backend, controls)
    upstream = upstream_ids(payload["steps"], "motifs")
    record: dict = {}
    with step_outputs(run_dir, "motifs", record) as stage:
        result = discover(run_dir, data, stage.path / "motifs", export_options=export_options, streme=streme,
                          tomtom=tomtom, database=database, meme_bin=meme_bin, raw_baseline=raw_baseline,
                          controls=controls, match_cpg=match_cpg, backend=backend, linear=linear,
                          permute_labels=permute_labels)
        record.update(_record("motifs", options, {"data": inputs["data"]["path"]}, Common(seed=seed, length=length),
                              upstream, fingerprint_inputs=False))
    return result


def _discovered_motifs(run_dir: Path, purpose: str):
    """(the run's checked provenance, the rows of ``motifs/motifs.tsv`` that name a motif)."""
    import pandas as pd

    payload = check_consistency(run_dir, ("cad", "cwga", "motifs"))
    table_path = run_dir / "motifs" / "motifs.tsv"
    if "motifs" not in payload["steps"] or not table_path.exists():
        raise MednaError(f"{run_dir}: no motifs to {purpose}", hint=f"run 'medna-interp motifs {run_dir}' first")
    motifs = pd.read_csv(table_path, sep="\t", keep_default_na=False)
    return payload, motifs[motifs.motif != ""]


def run_effects(run_dir: str | os.PathLike, *, flank: int = 3, common: Common = Common(),
                model: MednaDFM | None = None):
    """The causal effect of every motif in ``RUN/motifs/motifs.tsv``: its sites shuffled in the
    positives (:func:`medna_interp.mutagenesis.motif_effects`); writes ``RUN/effects.tsv``.

    Returns
    -------
    DataFrame : one row per motif, the strongest loss of P(modified) first
    """
    import pandas as pd

    from .mutagenesis import motif_effects

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload, motifs = _discovered_motifs(run_dir, "ablate")
    if flank < 0:
        raise MednaError(f"flank must not be negative, got {flank}")
    data, inputs = run_data(run_dir, common.length)
    model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
    sites_path = run_dir / "motifs" / "sites.tsv"
    sites = pd.read_csv(sites_path, sep="\t", dtype={"id": str}) if sites_path.exists() else \
        pd.DataFrame(columns=["motif", "id", "label", "start", "end"])
    effects = motif_effects(model, data, motifs, sites, flank=flank, seed=common.seed, batch_size=common.batch_size)
    upstream = upstream_ids(payload["steps"], "effects")
    record = _record("effects", {"flank": flank}, {name: entry["path"] for name, entry in inputs.items()},
                     common, upstream, fingerprint_inputs=False)
    with step_outputs(run_dir, "effects", record, started=started) as stage:
        effects.to_csv(stage.path / "effects.tsv", sep="\t", index=False, float_format="%.6g")
    return effects


def run_motif_matrices(run_dir: str | os.PathLike) -> dict[str, Any]:
    """motif id (as in ``motifs.tsv``) -> its STREME :class:`~medna_interp.motifs.motif.Motif`."""
    from .motifs.motif import read_meme

    out = {}
    for streme in sorted((Path(run_dir) / "motifs").glob("*/streme/streme.txt")):
        label = streme.parent.parent.name
        for motif in read_meme(streme):
            out[f"{label}:{motif.id}"] = motif
    return out


def run_insertion_step(run_dir: str | os.PathLike, *, n_backgrounds: int = 100, background: str = "both",
                       strand: str = "both", consensus: bool = False, bootstrap: int = 1000,
                       max_evalue: float = 0.05, common: Common = Common(), model: MednaDFM | None = None):
    """Insert every motif of ``RUN/motifs/motifs.tsv`` with STREME E <= ``max_evalue`` into
    backgrounds (:func:`medna_interp.insertion.insert`); writes ``RUN/insertion/``. Motifs
    above the E-value gate are listed in ``insertion.json`` as not tested: STREME reports
    them as chance findings, and each tested motif costs ~4 x window length x backgrounds
    forward passes.

    Returns
    -------
    InsertionResult, or None when no motif passes the gate
    """
    import pandas as pd

    from .insertion import Placeable, insert, write_insertion

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload, motifs = _discovered_motifs(run_dir, "insert")
    if n_backgrounds < 1 or bootstrap < 0 or max_evalue < 0:
        raise MednaError("insertion needs at least one background, and a non-negative bootstrap and E-value gate")
    inputs = run_inputs(run_dir)
    matrices = run_motif_matrices(run_dir)
    evalues = pd.to_numeric(motifs.evalue, errors="coerce")
    tested = motifs[(evalues <= max_evalue) & motifs.motif.isin(list(matrices))]
    placeables = [Placeable(row.motif, row.consensus, matrices[row.motif].pwm) for row in tested.itertuples()]
    options = {"n_backgrounds": n_backgrounds, "background": background, "strand": strand, "consensus": consensus,
               "bootstrap": bootstrap, "max_evalue": max_evalue}
    result = None
    if placeables:
        model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
        data = _recorded_windows(inputs, common.length)
        result = insert(model, data, placeables, background=background, n_backgrounds=n_backgrounds, strand=strand,
                        consensus=consensus, bootstrap=bootstrap, seed=common.seed,
                        batch_size=max(common.batch_size, 256))
    upstream = upstream_ids(payload["steps"], "insertion")
    record = _record("insertion", options, {name: entry["path"] for name, entry in inputs.items()}, common, upstream,
                     fingerprint_inputs=False)
    with step_outputs(run_dir, "insertion", record, started=started) as stage:
        folder = stage.path / "insertion"
        folder.mkdir()
        untested = sorted(set(motifs.motif) - set(tested.motif))
        if result is not None:
            write_insertion(result, folder, extra={"not_tested": untested, "max_evalue": max_evalue})
        else:
            (folder / "insertion.json").write_text(json.dumps(
                {"options": options, "motifs": [], "not_tested": untested, "max_evalue": max_evalue}, indent=2) + "\n")
    return result


def run_ism(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
            confidence: float = 0.9, max_per_class: int | None = 200, min_selected: int = MIN_SELECTED,
            strand_check: bool = False, common: Common = Common(), model: MednaDFM | None = None,
            force: bool = False):
    """Saturation mutagenesis of the high-confidence windows (at most ``max_per_class`` per
    class); writes ``ism_selection.tsv``, ``ism.npz`` (``bases_per_base`` = mean drop in
    log-odds (M, L), ``max_drop`` (M, L), ``delta`` (M, L, 4)) and ``ism_positions.tsv``
    (mean drop per position and base over the positives), a source for ``motifs``;
    ``strand_check`` also mutates every window's reverse complement and writes
    ``strand_ism.tsv`` (:mod:`medna_interp.interpret.strand`).

    Returns
    -------
    StepResult : (IsmResult, Selection)
    """
    from .baseline import BASES, one_hot
    from .interpret.ism import ism

    started = Resources()  # the step's wall time and memory include its computation
    paths = input_paths(checkpoint, data_path, common)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    _check_probability(confidence, "confidence")
    if max_per_class is not None and max_per_class < 2:
        raise MednaError(f"max_per_class must be at least 2, got {max_per_class}")
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    probabilities, key, fresh = _probabilities(run_dir, model, data, paths, common.batch_size)
    selection = select_confident(model, data, confidence, max_per_class, min_per_class=2, probabilities=probabilities,
                                 min_selected=min_selected)
    batch_size = max(common.batch_size, 256)
    result = ism(model, selection.data.sequences, batch_size=batch_size)
    strand = None
    if strand_check:
        from .interpret.strand import strand_consistency

        strand = strand_consistency(model, selection.data.sequences, selection.labels, {"ism": result.mean_drop},
                                    {"ism": lambda windows: ism(model, windows, batch_size=batch_size).mean_drop},
                                    common.batch_size)
    options = dict(confidence=confidence, max_per_class=max_per_class, min_selected=min_selected,
                   strand_check=strand_check)
    record = _record("ism", options, paths, common, {})
    record.update(selection=selection.counts, data_metrics=selection.metrics)
    if strand is not None:
        record["strand"] = {"consistent": strand.consistent, "methods": strand.table.to_dict("records")}
    positives = selection.labels == 1
    with step_outputs(run_dir, "ism", record, started=started) as stage:
        selection.write(stage.path / "ism_selection.tsv")
        np.savez_compressed(stage.path / "ism.npz", bases_per_base=result.mean_drop, max_drop=result.max_drop,
                            delta=result.delta, reference=result.reference)
        drop = -result.delta[positives].mean(axis=0)  # (L, 4): what changing to each base costs, on average
        wild = one_hot(list(selection.data.sequences))[positives].mean(axis=0)
        with open(stage.path / "ism_positions.tsv", "w") as handle:
            handle.write("position\tbase\tmean_drop_to_base\twild_type_fraction\n")
            handle.writelines(f"{i + 1}\t{b}\t{drop[i, j]:.6g}\t{wild[i, j]:.4f}\n"
                              for i in range(drop.shape[0]) for j, b in enumerate(BASES))
        if strand is not None:
            strand.table.to_csv(stage.path / "strand_ism.tsv", sep="\t", index=False, float_format="%.6g")
    if fresh:
        _save_probabilities(run_dir, probabilities, key)
    return StepResult(result, selection)


def run_faithfulness(run_dir: str | os.PathLike, *, truth: str | os.PathLike | None = None,
                     common: Common = Common(), model: MednaDFM | None = None):
    """Deletion curves of every per-base explanation of a run (CAD and CWGA per view, ISM,
    random), on the positives all of them explain; with ``truth`` (a ``synth`` sites
    file), planted-site AUROC and AUPRC. Writes ``faithfulness.tsv``,
    ``faithfulness_curves.tsv`` and ``faithfulness.png``/``.svg``.

    Returns
    -------
    Faithfulness
    """
    from .interpret.faithfulness import faithfulness, plot_curves
    from .motifs.export import available_sources, per_base_scores
    from .synth import planted_mask

    started = Resources()  # the step's wall time and memory include its computation
    run_dir = Path(run_dir)
    payload = check_consistency(run_dir, ("cad", "cwga", "ism"))
    sources = [pair for pair in available_sources(run_dir)]
    if not sources:
        raise MednaError(f"{run_dir}: no per-base explanation to compare",
                         hint=f"run 'medna-interp run' or 'cad'/'cwga'/'ism' into {run_dir} first")
    per_source = {}
    for source, view in sources:
        selection, scores = per_base_scores(run_dir, source, view)
        keep = selection.label.to_numpy() == 1
        per_source[f"{source}_{view}"] = dict(zip(selection.id[keep], scores[keep]))
    shared = sorted(set.intersection(*(set(values) for values in per_source.values())))
    if len(shared) < 5:
        raise MednaError(f"{run_dir}: only {len(shared)} positives are explained by every method; need 5")
    data, inputs = run_data(run_dir, common.length)
    sequence_of = dict(zip(data.ids, data.sequences))
    sequences = [sequence_of[i] for i in shared]
    mask = None
    if truth is not None:
        import pandas as pd

        if not Path(truth).is_file():
            raise MednaError(f"{truth}: no such file")
        if not set(pd.read_csv(truth, sep="\t", dtype={"id": str}).id) & set(shared):
            raise MednaError(f"{truth}: none of its window ids are in the run's data ({data.source})",
                             hint="give the sites.tsv that 'medna-interp synth' wrote with this data")
        mask = planted_mask(shared, truth, data.length)
    model = model or load_checkpoint(inputs["checkpoint"]["path"], common)
    result = faithfulness(model, sequences, {name: np.stack([values[i] for i in shared])
                                             for name, values in per_source.items()},
                          truth=mask, seed=common.seed, batch_size=max(common.batch_size, 256))
    upstream = upstream_ids(payload["steps"], "faithfulness")
    paths = {name: entry["path"] for name, entry in inputs.items()}
    if truth is not None:
        paths["truth"] = str(truth)
    record = _record("faithfulness", {"truth": str(truth) if truth else None}, paths, common, upstream,
                     fingerprint_inputs=False)
    record["positives"] = len(shared)
    with step_outputs(run_dir, "faithfulness", record, started=started) as stage:
        result.table.to_csv(stage.path / "faithfulness.tsv", sep="\t", index=False, float_format="%.6g")
        result.curves.to_csv(stage.path / "faithfulness_curves.tsv", sep="\t", index=False, float_format="%.6g")
        plot_curves(result.curves, stage.path / "faithfulness", len(shared))
    return result


def _embed_inputs(run_dir, checkpoint, data_path, common: Common, color_by: str | None) -> dict[str, str]:
    """The embed step's inputs: the model and data, and the run's motif table and sites when
    ``color_by`` names one of its motifs (their change then reruns the step)."""
    from .embed import run_motif_files

    files = run_motif_files(run_dir, color_by) if color_by is not None else None
    return input_paths(checkpoint, data_path, common, **(dict(zip(("motifs", "motif_sites"), files)) if files else {}))


def run_embed(checkpoint: str | os.PathLike, data_path: str | os.PathLike, run_dir: str | os.PathLike, *,
              stages=("raw", "post_dnabert", "post_film", "post_moe"), max_windows: int = 2000,
              n_neighbors: int = 15, min_dist: float = 0.1, color_by: str | None = None,
              common: Common = Common(), model: MednaDFM | None = None, force: bool = False):
    """Features of up to ``max_windows`` windows at each processing stage, their UMAPs and
    separability numbers (:func:`medna_interp.embed.embed`); writes ``embeddings.npz``,
    ``embed.tsv`` and ``embed.png``/``.svg``.

    Returns
    -------
    Embedding
    """
    from .embed import check_stages, embed, write_embedding

    started = Resources()  # the step's wall time and memory include its computation
    stages = check_stages(stages)  # canonical order, so that the fingerprint does not depend on it
    paths = _embed_inputs(run_dir, checkpoint, data_path, common, color_by)
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = model or load_checkpoint(checkpoint, common)
    data = load_data(data_path, common, model)
    result = embed(model, data, stages=stages, max_windows=max_windows, n_neighbors=n_neighbors, min_dist=min_dist,
                   color_by=color_by, run_dir=run_dir, seed=common.seed, batch_size=common.batch_size)
    options = dict(stages=list(stages), max_windows=max_windows, n_neighbors=n_neighbors, min_dist=min_dist,
                   color_by=color_by)
    record = _record("embed", options, paths, common, {})
    record.update(windows=len(result.ids), numbers=result.numbers.to_dict("records"))
    with step_outputs(run_dir, "embed", record, started=started) as stage:
        write_embedding(result, stage.path)
    return result
