"""Outputs that never lose data (their provenance: :mod:`medna_interp.core.provenance`).

Rules every command follows (checked by :func:`claim_directory` / :func:`claim_file`
before any work starts):

* an output never replaces or lies inside one of the command's inputs, and is never the
  current directory;
* an existing directory is written into only if medna-interp made it (a
  ``provenance.json`` of ours, or a checkpoint's ``config.json``) and it holds the same
  kind of output, or if it is empty; ``force`` lets a command write into any other
  directory, where it replaces only the files it writes itself;
* a file is removed only if provenance says that medna-interp wrote it, under that name,
  for the same step.

Results are written into a staging folder and moved into place on success
(:func:`staged`), so a failed or interrupted command leaves no half-written result and
no stray folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import MednaError
from .provenance import PROVENANCE, Resources, TOOL, absolute_path, output_checksums, read_provenance

CHECKPOINT_FORMAT = "medna-interp-checkpoint"
_STAGE_MARK = ".medna-stage."


# ---------------------------------------------------------------- checks before work


def output_kind(directory: str | os.PathLike) -> str | None:
    """What medna-interp wrote into ``directory``: ``run``, ``evaluation``, ``synthetic``,
    ``export``, ``checkpoint`` ..., or ``None`` when it is not one of ours."""
    directory = Path(directory)
    provenance_path = directory / PROVENANCE
    if provenance_path.is_file():
        try:
            payload = json.loads(provenance_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if isinstance(payload, dict) and (payload.get("tool") == TOOL or "steps" in payload):
            return payload.get("kind", "run")
    config = directory / "config.json"
    if config.is_file():
        try:
            payload = json.loads(config.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT:
            return "checkpoint"
    return None


def _visible_entries(directory: Path) -> list[Path]:
    """Entries of ``directory`` other than leftovers of our own interrupted staging."""
    return [p for p in directory.iterdir() if _STAGE_MARK not in p.name]


def _check_against_inputs(target: Path, inputs: Iterable[str | os.PathLike], what: str) -> None:
    for given in inputs:
        if given is None:
            continue
        source = absolute_path(given)
        if target == source:
            raise MednaError(f"{what} is the input {given}; it would be overwritten",
                             hint="choose another output path")
        if target in source.parents:
            raise MednaError(f"{what} contains the input {given}; writing there could replace it",
                             hint="choose another output path")
        if source.is_dir() and source in target.parents:
            raise MednaError(f"{what} lies inside the input directory {given}; writing there would change it",
                             hint="choose an output path outside it")


def _check_writable(target: Path, what: str) -> None:
    """The deepest existing folder on the way to ``target`` must accept new files."""
    folder = target if target.is_dir() else target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise MednaError(f"{what}: {folder} is a file, so the folder cannot be created",
                         hint="choose another output path")
    try:
        fd, probe = tempfile.mkstemp(prefix=f"{_STAGE_MARK}probe.", dir=folder)
    except OSError as error:
        raise MednaError(f"{what}: cannot write into {folder} ({error.strerror})",
                         hint="choose a writable output path") from None
    os.close(fd)
    os.unlink(probe)


def claim_directory(path: str | os.PathLike, kind: str, *, inputs: Iterable[str | os.PathLike] = (),
                    force: bool = False) -> Path:
    """Check, before any work, that writing a ``kind`` output directory at ``path`` is safe.

    Parameters
    ----------
    path : the output directory
    kind : what will be written there (``run``, ``checkpoint``, ``evaluation``, ...)
    inputs : files and directories the command reads; the output may not be, contain
        or lie inside any of them
    force : write into an existing directory that is not one of ours (or holds another
        kind of output); only the files the command writes are replaced

    Returns
    -------
    Path : ``path``

    Raises
    ------
    MednaError : naming the problem, with a hint on how to proceed
    """
    given = Path(path)
    target = absolute_path(path)
    what = f"output directory {path}"
    if target == absolute_path(os.getcwd()):
        raise MednaError(f"{what} is the current directory, whose files medna-interp did not write",
                         hint="give a new folder, e.g. -o results")
    if target.exists() and not target.is_dir():
        raise MednaError(f"{what} is a file, not a directory", hint="choose another output path")
    _check_against_inputs(target, inputs, what)
    if target.is_dir() and _visible_entries(target):
        found = output_kind(target)
        if found is None and not force:
            raise MednaError(f"{what} is not empty and was not written by medna-interp",
                             hint="choose a new folder, or add --force to write into it "
                                  "(files the command does not write are kept)")
        if found is not None and found != kind and not force:
            raise MednaError(f"{what} holds a medna-interp {found}, not a {kind}",
                             hint="choose another output path")
    _check_writable(target, what)
    return given


def claim_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (), force: bool = False,
               ours: str | None = None) -> Path:
    """Check, before any work, that writing the single file ``path`` is safe.

    An existing file is replaced only with ``force`` or when its first line starts with
    ``ours`` (the header this command writes), and never when it is an input.
    """
    given = Path(path)
    target = absolute_path(path)
    what = f"output file {path}"
    if target.is_dir():
        raise MednaError(f"{what} is a directory", hint="give a file name")
    _check_against_inputs(target, inputs, what)
    if target.exists() and not force:
        first = ""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with open(target) as handle:
                first = handle.readline().rstrip("\n")
        if ours is None or not first.startswith(ours):
            raise MednaError(f"{what} exists and was not written by this command",
                             hint="choose another file name, or add --force to replace it")
    _check_writable(target, what)
    return given


# ---------------------------------------------------------------- atomic writes

@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w") -> Iterator[Any]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success."""
    path = Path(path)
    created = _make_parents(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_STAGE_MARK}", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:  # on success the temporary file became ``path``
        if os.path.exists(tmp):
            os.unlink(tmp)
        _remove_created(created)
        raise


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, deepest first."""
    created = []
    current = absolute_path(folder)
    while not current.exists():
        created.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_created(created: list[Path]) -> None:
    for folder in created:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty


@dataclass
class Stage:
    """A staging folder; ``names`` lists what was moved into place."""

    path: Path
    names: list[str] = field(default_factory=list)


@contextlib.contextmanager
def staged(directory: str | os.PathLike, *, replaces: Iterable[str] = ()) -> Iterator[Stage]:
    """A scratch folder whose entries move into ``directory`` together on success.

    A new ``directory`` appears at once (the scratch folder is renamed); in an existing
    one each entry replaces the entry of the same name, and the names in ``replaces``
    (what this step wrote last time, by provenance) that it did not write again are
    removed. On failure nothing reaches ``directory``, and folders this call created
    are removed.
    """
    directory = Path(directory)
    created = not directory.exists()
    made = _make_parents(directory.parent) if created else []
    where = directory.parent if created else directory
    stage = Stage(Path(tempfile.mkdtemp(prefix=f".{directory.name}{_STAGE_MARK}" if created else _STAGE_MARK,
                                        dir=where)))
    try:
        yield stage
        stage.names = sorted(p.name for p in stage.path.iterdir())
        if created:
            os.replace(stage.path, directory)
        else:
            _move_into(stage.path, directory, stage.names)
            for name in set(replaces) - set(stage.names):
                _remove(directory / name)
    except BaseException:
        shutil.rmtree(stage.path, ignore_errors=True)
        _remove_created(made)
        raise
    finally:
        if stage.path.exists():
            shutil.rmtree(stage.path, ignore_errors=True)


def _move_into(stage: Path, directory: Path, names: list[str]) -> None:
    # provenance.json moves last: until it does, the old record disowns the new files'
    # checksums, so an interruption here is seen as "outputs changed" and recomputed
    for name in sorted(names, key=lambda n: n == PROVENANCE):
        source, target = stage / name, directory / name
        if target.is_dir() and not target.is_symlink():
            old = stage / f"{name}{_STAGE_MARK}old"
            os.replace(target, old)
            os.replace(source, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def write_json(path: str | os.PathLike, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically (arrays and paths become lists and strings)."""
    with atomic_file(path) as handle:
        json.dump(payload, handle, indent=2, sort_keys=False, default=_json_default)
        handle.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextlib.contextmanager
def step_outputs(directory: str | os.PathLike, step: str, record: dict[str, Any],
                 kind: str = "run", started: Resources | None = None) -> Iterator[Stage]:
    """Stage a step's outputs, then publish them with their checksums in ``provenance.json``.

    ``record`` is the step's provenance (see :func:`provenance`); ``outputs`` (name ->
    sha256) is added to it. Files the same step wrote last time and did not write again
    are removed; nothing else in ``directory`` is touched. ``started``: resources counted
    from the step's start (default: from here, which misses work done before).
    """
    directory = Path(directory)
    payload = read_provenance(directory) if directory.exists() else {"steps": {}}
    previous = payload["steps"].get(step, {}).get("outputs", {})
    resources = started or Resources()
    with staged(directory, replaces=previous) as stage:
        yield stage
        record["outputs"] = output_checksums(stage.path, (p.name for p in stage.path.iterdir()))
        record["resources"] = resources.record()
        payload.update({"tool": TOOL, "kind": payload.get("kind", kind)})
        payload["steps"][step] = record
        write_json(stage.path / PROVENANCE, payload)
