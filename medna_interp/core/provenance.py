"""The provenance that makes results reproducible: checksums, software versions, the command
line, a step's wall time and memory, and the ``provenance.json`` a run directory keeps."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import MednaError


PROVENANCE = "provenance.json"


TOOL = "medna-interp"


def absolute_path(path: str | os.PathLike) -> Path:
    """``path`` made absolute (with ``~`` expanded) without resolving links, so that a link is judged as given."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


_CHECKSUMS: dict[tuple, str] = {}


def sha256_of(path: str | os.PathLike) -> str:
    """Checksum of a file, or of every file under a directory (sorted by relative path).

    Remembered per (path, size, modification time) within a process, so a paper-size
    checkpoint is read once however many steps name it.
    """
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stats = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    key = (str(absolute_path(path)), stats)
    if key in _CHECKSUMS:
        return _CHECKSUMS[key]
    digest = hashlib.sha256()
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    _CHECKSUMS[key] = digest.hexdigest()
    return _CHECKSUMS[key]


def software_versions() -> dict[str, str]:
    """Versions of medna-interp, Python, torch, transformers and NumPy, for provenance."""
    import numpy
    import torch
    import transformers

    from .._version import __version__

    return {
        "medna_interp": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
    }


#: the command line being run, set by the CLI (:func:`command_line`); ``None`` when called from Python
_COMMAND: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("medna_interp_command", default=None)


@contextlib.contextmanager
def command_line(argv: list[str]) -> Iterator[None]:
    """Within the block, provenance records ``argv`` as the command and ``via: cli``."""
    token = _COMMAND.set(list(argv))
    try:
        yield
    finally:
        _COMMAND.reset(token)


def provenance(config: dict[str, Any], inputs: dict[str, str | os.PathLike], seed: int | None) -> dict[str, Any]:
    """The record that makes a result reproducible: command, versions, config, seed, input checksums.

    ``command`` is the command line when the CLI runs; from Python it is the
    interpreter's own ``sys.argv`` and ``via`` says ``python``.
    """
    return {
        "command": _COMMAND.get() or [Path(sys.argv[0]).name, *sys.argv[1:]],
        "via": "cli" if _COMMAND.get() else "python",
        "versions": software_versions(),
        "config": config,
        "seed": seed,
        "inputs": {name: {"path": str(p), "sha256": sha256_of(p)} for name, p in inputs.items() if p is not None},
    }


class Resources:
    """Wall time and peak memory of a step, for ``provenance.json``.

    ``peak_rss_mb`` is the process's peak resident memory when the step ended (it never
    falls, so in a multi-step process it bounds the step from above); on CUDA the
    step's own peak of allocated GPU memory is added.
    """

    def __init__(self):
        import torch

        self._cuda = torch.cuda.is_available()
        if self._cuda:
            torch.cuda.reset_peak_memory_stats()
        self._start = time.perf_counter()

    def record(self) -> dict[str, float]:
        import torch

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        peak_mb = peak / 1024**2 if sys.platform == "darwin" else peak / 1024
        values = {"wall_seconds": round(time.perf_counter() - self._start, 3), "peak_rss_mb": round(peak_mb, 1)}
        if self._cuda:
            values["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 1024**2, 1)
        return values


def read_provenance(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The ``provenance.json`` of a folder (``{"steps": {}}`` when there is none); unreadable ones are user errors."""
    path = Path(run_dir) / PROVENANCE
    if not path.exists():
        return {"steps": {}}
    try:
        payload = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MednaError(f"{path}: unreadable provenance ({error.__class__.__name__})",
                         hint="move the directory aside and start a new one") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("steps", {}), dict):
        raise MednaError(f"{path}: not a medna-interp provenance record",
                         hint="move the directory aside and start a new one")
    payload.setdefault("steps", {})
    return payload


def output_checksums(directory: str | os.PathLike, names: Iterable[str]) -> dict[str, str]:
    """name -> SHA-256 of each of ``names`` under ``directory`` (``provenance.json`` itself left out)."""
    directory = Path(directory)
    return {name: sha256_of(directory / name) for name in sorted(names) if name != PROVENANCE}


def changed_outputs(directory: str | os.PathLike, record: dict[str, Any]) -> list[str]:
    """Names of a step's recorded outputs that are now missing or differ from their checksum."""
    directory = Path(directory)
    changed = []
    for name, digest in record.get("outputs", {}).items():
        path = directory / name
        if not path.exists() or sha256_of(path) != digest:
            changed.append(name)
    return changed
