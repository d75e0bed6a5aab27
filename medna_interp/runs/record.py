"""A step's record in ``provenance.json``, and the checks that a run's records fit together.

Each record holds the step's *fingerprint* (what determines its results: options, input
checksums, and what it read of its upstream steps), the checksums of the files it wrote,
and the identity (:func:`result_id`) of each upstream step when it read it, so that stale
or mixed results can be told apart from current ones (:func:`check_consistency`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..core.errors import MednaError
from ..core.provenance import PROVENANCE, changed_outputs, provenance, read_provenance
from ..core.settings import Common
from .registry import BY_NAME, EXECUTION_ONLY, MODEL_STEPS, STEPS


class StepResult(NamedTuple):
    """What :func:`run_cad` and :func:`run_cwga` return: the full ``result``
    (:class:`CadResult` or :class:`CwgaResult`) and the ``selection`` it explains."""

    result: Any
    selection: Any


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
    return {name: result_id(records[name]) if name in records else "" for name in BY_NAME[step].upstream}


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
        how = command_of(record, step, run_dir)
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


def command_of(record: dict, step: str, run_dir) -> str:
    """The command line that made ``record``, or one that remakes it with default options."""
    if record.get("via") == "cli" and record.get("command"):
        return " ".join(record["command"])
    inputs = record.get("inputs", {})
    negatives = f" --negatives {inputs['negatives']['path']}" if "negatives" in inputs else ""
    return BY_NAME[step].remake.format(run_dir=run_dir, checkpoint=inputs.get("checkpoint", {}).get("path", "CKPT"),
                                       data=inputs.get("data", {}).get("path", "DATA"), negatives=negatives)


def step_record(step: str, options: dict, paths: dict[str, str], common: Common, upstream: dict[str, str],
            fingerprint_inputs: bool = True, reported: dict | None = None) -> dict:
    """A step's provenance with its fingerprint (see :func:`expected_fingerprint`);
    ``reported`` adds what the computation reported of its options to the config."""
    config = {**result_options(reported or {}), **result_options(options), **recorded_options(common, step)}
    record = provenance(config, paths, common.seed)
    inputs = {name: entry["sha256"] for name, entry in record["inputs"].items()} if fingerprint_inputs else {}
    record["fingerprint"] = fingerprint(step, {**options, **recorded_options(common, step)}, inputs, upstream)
    record["upstream"] = upstream
    record["execution"] = {"device": common.device, "batch_size": common.batch_size}
    return record


def recorded_options(common: Common, step: str) -> dict[str, Any]:
    """What ``step``'s config and fingerprint record of the shared options."""
    precision = {"precision": common.model_precision()} if step in MODEL_STEPS else {}
    return {"seed": common.seed, "length": common.length, **precision}
