"""``medna-interp run``: selection -> CAD -> CWGA -> motifs -> motif effects -> insertion -> representations
-> report, resumable.

Every option of every step is checked before CAD starts. A step is skipped when
``provenance.json`` records the fingerprint it would have now (its result-determining
options, input checksums and upstream fingerprints: :func:`medna_interp.steps.fingerprint`)
and every file it wrote is still there with the recorded checksum. So an interrupted run
resumes where it stopped, a changed option reruns exactly the steps it affects and those
after them, and presentation options (progress bars) rerun nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .interpret.cad import check_gc_strata
from .motifs.discover import matched_negatives
from .outputs import claim_directory
from .steps import (STEPS, Common, check_cad_options, check_cwga_options, check_motif_options, expected_fingerprint,
                    full_options, input_paths, is_up_to_date, load_checkpoint, load_data, run_cad, run_cwga,
                    run_effects, run_embed, run_insertion_step, run_motifs)


@dataclass(frozen=True)
class RunOptions:
    """Keyword options of each step (see :mod:`medna_interp.steps`); unset ones take the step's defaults."""

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
    from .embed import check_options as check_embed_options
    from .report import write_report

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

    actions = {
        "cad": lambda: run_cad(checkpoint, data, run_dir, common=common, model=model, force=force, **options.cad),
        "cwga": lambda: run_cwga(checkpoint, data, run_dir, common=common, model=model, force=force, **options.cwga),
        "motifs": lambda: run_motifs(run_dir, seed=common.seed, length=common.length, **options.motifs),
        "effects": lambda: run_effects(run_dir, common=common, model=model, **options.effects),
        "insertion": lambda: run_insertion_step(run_dir, common=common, model=model, **options.insertion),
        "embed": lambda: run_embed(checkpoint, data, run_dir, common=common, model=model, **options.embed),
        "report": lambda: write_report(run_dir),
    }
    step_options = {"cad": options.cad, "cwga": options.cwga, "motifs": options.motifs, "effects": options.effects,
                    "insertion": options.insertion, "embed": options.embed, "report": {}}
    status: dict[str, str] = {}
    for step in STEPS:
        if step_options[step] is None:
            status[step] = "off"
            continue
        expected = expected_fingerprint(step, run_dir, step_options[step], common, checkpoint, data)
        if not force and is_up_to_date(run_dir, step, expected):
            status[step] = "skipped"
            log(f"[{step}] up to date, skipped")
            continue
        log(f"[{step}] running")
        actions[step]()
        status[step] = "ran"
    return status
