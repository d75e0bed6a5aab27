"""Atomic outputs and run provenance.

Every file or directory we produce is written under a temporary name in the same
directory and renamed into place, so an interrupted or failed run never leaves a
half-written result where a finished one is expected.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary directory that replaces ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "previous")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike, payload: Any) -> None:
    with atomic_file(path) as handle:
        json.dump(payload, handle, indent=2, sort_keys=False, default=_json_default)
        handle.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def sha256_of(path: str | os.PathLike) -> str:
    """Checksum of a file, or of every file under a directory (sorted by relative path)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def software_versions() -> dict[str, str]:
    import numpy
    import torch
    import transformers

    from . import __version__

    return {
        "medna_interp": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "numpy": numpy.__version__,
    }


def provenance(config: dict[str, Any], inputs: dict[str, str | os.PathLike], seed: int | None) -> dict[str, Any]:
    """The record that makes a result reproducible: command, versions, config, seed, input checksums."""
    return {
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "versions": software_versions(),
        "config": config,
        "seed": seed,
        "inputs": {name: {"path": str(p), "sha256": sha256_of(p)} for name, p in inputs.items()},
    }


@contextlib.contextmanager
def staged(run_dir: str | os.PathLike) -> Iterator[Path]:
    """A scratch directory whose contents move into ``run_dir`` together on success.

    On failure nothing reaches ``run_dir``, and a ``run_dir`` this call created is removed.
    """
    run_dir = Path(run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".stage.", dir=run_dir))
    try:
        yield stage
        for item in sorted(stage.iterdir()):
            target = run_dir / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)


PROVENANCE = "provenance.json"


def read_provenance(run_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(run_dir) / PROVENANCE
    return json.loads(path.read_text()) if path.exists() else {"steps": {}}


def record_step(run_dir: str | os.PathLike, step: str, record: dict[str, Any]) -> None:
    """Add or replace one step's provenance in ``run_dir/provenance.json``."""
    payload = read_provenance(run_dir)
    payload.setdefault("steps", {})[step] = record
    write_json(Path(run_dir) / PROVENANCE, payload)
