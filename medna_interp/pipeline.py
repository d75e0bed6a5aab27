"""``medna-interp run``: selection -> CAD -> CWGA -> motifs -> motif effects -> insertion -> representations
-> report, resumable.

Every option of every step is checked before CAD starts. A step is skipped when
``provenance.json`` records the fingerprint it would have now (its result-determining
options, input checksums and upstream fingerprints: :func:`medna_interp.runs.record.fingerprint`)
and every file it wrote is still there with the recorded checksum. So an interrupted run
resumes where it stopped, a changed option reruns exactly the steps it affects and those
after them, and presentation options (progress bars) rerun nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import reporting  # noqa: F401  (its module registers the report step's runner)
from .core.outputs import claim_directory
from .core.settings import Common, input_paths
from .data.io import load_data
from .interpret.cad import check_gc_strata
from .interpret.embed import check_options as check_embed_options
from .models.loading import load_checkpoint
from .motifs.controls import matched_negatives
from .runs.checks import check_cad_options, check_cwga_options, check_motif_options
from .runs.record import is_up_to_date
from .runs.registry import BY_NAME, STEPS, runner
from .runs.resume import expected_fingerprint, full_options


@dataclass(frozen=True)
class RunOptions:
    """Keyword options of each step of :data:`medna_interp.runs.registry.STEPS` (an attribute per step,
    the report's none); unset ones take the step's defaults."""

    cad: dict = field(default_factory=dict)
    cwga: dict = field(default_factory=dict)
    motifs: dict = field(default_factory=dict)
    effects: dict = field(default_factory=dict)
    insertion: dict = field(default_factory=dict)
    #: None leaves the representations step out (its UMAPs are the slowest part of a small run)
    embed: dict | None = field(default_factory=dict)


def run(checkpoint: str | os.PathLike, data: str | os.PathLike, run_dir: str | os.PathLike,
        options: RunOptions = RunOptions(), common: Common = Common(), force: bool = False,
        log: Callable[[str], None] = print) -> dict[str, str]:
    """Run the missing or outdated steps into ``run_dir``.

    Parameters
    ----------
    checkpoint, data : the model directory and the labelled windows
    run_dir : a new folder, or a run directory of ours to resume
    options : per-step options
    common : options every step shares
    force : rerun every step, and write into a non-empty folder that is not one of ours
    log : where progress lines go

    Returns
    -------
    dict : step -> ``"ran"``, ``"skipped"`` (up to date) or ``"off"`` (``options.embed`` is None;
        representations an earlier run made stay in place and in the report)
    """
    run_dir = Path(run_dir)
    cad_options = full_options("cad", options.cad, common.seed)
    cwga_options = full_options("cwga", options.cwga, common.seed)
    motif_options = full_options("motifs", options.motifs, common.seed)
    embed_options = None if options.embed is None else full_options("embed", options.embed, common.seed)
    paths = input_paths(checkpoint, data, common, kmer_encoder=cad_options["kmer_encoder"],
                        bpe_encoder=cad_options["bpe_encoder"])
    claim_directory(run_dir, "run", inputs=paths.values(), force=force)
    model = load_checkpoint(checkpoint, common)
    windows = load_data(data, common, model)
    check_cad_options(model, **{k: cad_options[k] for k in ("views", "layer", "heads", "min_samples", "confidence",
                                                             "max_per_class", "kmer_encoder", "bpe_encoder")})
    check_cwga_options(model, **{k: cwga_options[k] for k in ("views", "top_dims", "n_samples", "confidence", "steps",
                                                               "internal_batch_size", "min_count", "gc_strata")})
    labels = windows.require_labels()
    check_gc_strata(cad_options["gc_strata"], labels, f"windows in {windows.source}")
    check_gc_strata(cwga_options["gc_strata"], labels, f"windows in {windows.source}")
    check_motif_options(motif_options["database"], motif_options["meme_bin"], motif_options["backend"],
                        motif_options["controls"])
    if motif_options["controls"] == "matched":
        matched_negatives(windows, motif_options["export_options"].seed, required=True, cpg=motif_options["match_cpg"])
    if embed_options is not None:
        check_embed_options(windows,
                            **{k: embed_options[k] for k in ("stages", "max_windows", "n_neighbors", "min_dist")})

    shared = {"common": common, "model": model, "force": force}
    status: dict[str, str] = {}
    for name in STEPS:
        step, step_options = BY_NAME[name], getattr(options, name, {})
        if step_options is None:
            status[name] = "off"
            continue
        expected = expected_fingerprint(name, run_dir, step_options, common, checkpoint, data)
        if not force and is_up_to_date(run_dir, name, expected):
            status[name] = "skipped"
            log(f"[{name}] up to date, skipped")
            continue
        log(f"[{name}] running")
        where = (checkpoint, data, run_dir) if step.reads_inputs else (run_dir,)
        runner(name)(*where, **{key: shared[key] for key in step.takes}, **step_options)
        status[name] = "ran"
    return status
