"""Resuming a run: the options a step would run with, and the fingerprint it would record.

A step is up to date when ``provenance.json`` records the fingerprint it would record now
(:func:`expected_fingerprint`) and every file it wrote is unchanged
(:func:`medna_interp.runs.record.is_up_to_date`).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from ..core.provenance import read_provenance, sha256_of
from ..core.settings import Common, input_paths
from .explain import embed_inputs
from .follow_up import motif_defaults
from .record import fingerprint, recorded_options, upstream_ids
from .registry import runner

#: keyword arguments of the runners that are shared by every step rather than options of one
SHARED = ("common", "model", "force")


def step_defaults(step: str) -> dict[str, Any]:
    """option -> default of ``step``, read from its runner's keyword-only arguments (the
    report, whose runner sits above this layer, has no options)."""
    if step == "report":
        return {}
    parameters = inspect.signature(runner(step)).parameters.values()
    return {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in SHARED}


def full_options(step: str, options: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """``options`` of a step with every default filled in, as the step itself sees them.

    Raises
    ------
    TypeError : for an option the step does not have
    """
    defaults = step_defaults(step)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise TypeError(f"unknown {step} options: {', '.join(unknown)}")
    filled = {**defaults, **options}
    return motif_defaults(filled, seed) if step == "motifs" else filled


def expected_fingerprint(step: str, run_dir, options: dict[str, Any], common: Common,
                         checkpoint=None, data_path=None) -> str:
    """The fingerprint ``step`` would record if it ran now with these options."""
    options = full_options(step, options, common.seed)
    step_options = options if step == "report" else {**options, **recorded_options(common, step)}
    if step in ("cad", "cwga"):
        extra = {k: options.get(k) for k in ("kmer_encoder", "bpe_encoder")}
        inputs = {name: sha256_of(path) for name, path in
                  input_paths(checkpoint, data_path, common, **extra).items()}
        return fingerprint(step, step_options, inputs, {})
    if step == "embed":
        inputs = {name: sha256_of(path) for name, path in
                  embed_inputs(run_dir, checkpoint, data_path, common, options["color_by"]).items()}
        return fingerprint(step, step_options, inputs, {})
    recorded = read_provenance(run_dir)["steps"] if Path(run_dir).exists() else {}
    return fingerprint(step, step_options, {}, upstream_ids(recorded, step))
