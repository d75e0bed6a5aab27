"""``medna-interp run``: selection -> CAD -> CWGA -> motifs -> report, resumable.

Each step's fingerprint covers its options, the checksums of its inputs and the
fingerprints of the steps it reads. A step is skipped when ``provenance.json`` holds
the same fingerprint and its outputs exist, so an interrupted run resumes where it
stopped and a changed option reruns exactly the steps it affects.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Callable

from .outputs import read_provenance, sha256_of, write_json
from .steps import Common, run_cad, run_cwga, run_motifs

STEPS = ("cad", "cwga", "motifs", "report")
OUTPUTS = {
    "cad": ("selection.tsv", "cad_positional.npz"),
    "cwga": ("cwga_selection.tsv", "dims.tsv", "attributions.npz"),
    "motifs": ("motifs/motifs.tsv",),
    "report": ("report.html", "report.json"),
}
UPSTREAM = {"cad": (), "cwga": (), "motifs": ("cad", "cwga"), "report": ("cad", "cwga", "motifs")}


@dataclass
class RunOptions:
    """Keyword options of each step (see :mod:`medna_interp.steps`)."""

    cad: dict = field(default_factory=dict)
    cwga: dict = field(default_factory=dict)
    motifs: dict = field(default_factory=dict)


def _plain(value):
    if is_dataclass(value):
        return asdict(value)
    return value if isinstance(value, (str, int, float, bool, type(None), list, tuple, dict)) else str(value)


def fingerprint(step: str, options: dict, inputs: dict[str, str], upstream: dict[str, str]) -> str:
    payload = {"step": step, "options": {k: _plain(v) for k, v in sorted(options.items())},
               "inputs": inputs, "upstream": upstream}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run(checkpoint: str | os.PathLike, data: str | os.PathLike, run_dir: str | os.PathLike,
        options: RunOptions = RunOptions(), common: Common = Common(), force: bool = False,
        log: Callable[[str], None] = print) -> dict[str, str]:
    """Run the missing or outdated steps; returns {step: "ran" | "skipped"}."""
    from .report import write_report

    run_dir = Path(run_dir)
    inputs = {"checkpoint": sha256_of(checkpoint), "data": sha256_of(data)}
    if common.negatives:
        inputs["negatives"] = sha256_of(common.negatives)
    common_options = {"seed": common.seed, "length": common.length}
    actions = {
        "cad": lambda: run_cad(checkpoint, data, run_dir, common=common, **options.cad),
        "cwga": lambda: run_cwga(checkpoint, data, run_dir, common=common, **options.cwga),
        "motifs": lambda: run_motifs(run_dir, seed=common.seed, length=common.length, **options.motifs),
        "report": lambda: write_report(run_dir),
    }
    step_options = {"cad": options.cad, "cwga": options.cwga, "motifs": options.motifs, "report": {}}
    prints: dict[str, str] = {}
    status: dict[str, str] = {}
    for step in STEPS:
        upstream = {name: prints[name] for name in UPSTREAM[step]}
        prints[step] = fingerprint(step, {**step_options[step], **common_options},
                                   inputs if step in ("cad", "cwga") else {}, upstream)
        recorded = read_provenance(run_dir).get("steps", {}).get(step, {}) if run_dir.exists() else {}
        complete = all((run_dir / name).exists() for name in OUTPUTS[step])
        if not force and complete and recorded.get("fingerprint") == prints[step]:
            status[step] = "skipped"
            log(f"[{step}] up to date, skipped")
            continue
        log(f"[{step}] running")
        actions[step]()
        _stamp(run_dir, step, prints[step])
        status[step] = "ran"
    return status


def _stamp(run_dir: Path, step: str, value: str) -> None:
    payload = read_provenance(run_dir)
    payload.setdefault("steps", {}).setdefault(step, {})["fingerprint"] = value
    write_json(run_dir / "provenance.json", payload)
