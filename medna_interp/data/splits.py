"""Training and validation windows: stratified, seeded splits, and pooled training files."""

from __future__ import annotations

import numpy as np

from ..core.errors import MednaError
from .io import SequenceSet, read_sequences


def stratified_split(data: SequenceSet, fraction: float, seed: int) -> tuple[SequenceSet, SequenceSet]:
    """(train, validation), each class split in the same proportion, seeded."""
    labels = data.require_labels()
    rng = np.random.default_rng(seed)
    valid = []
    for value in (0, 1):
        members = np.flatnonzero(labels == value)
        rng.shuffle(members)
        valid.extend(members[: max(1, int(round(fraction * len(members))))])
    mask = np.zeros(len(data), dtype=bool)
    mask[valid] = True
    return data.subset(np.flatnonzero(~mask)), data.subset(np.flatnonzero(mask))


def _check_both_classes(data: SequenceSet, role: str) -> None:
    labels = data.require_labels()
    present = sorted(set(labels.tolist()))
    if present != [0, 1]:
        raise MednaError(f"{data.source}: {role} data has only class {present[0]}; "
                         "training needs both labels 0 and 1")


def training_split(train_path, valid_path=None, negatives=None, length: int | None = 41,
                   valid_fraction: float = 0.1, seed: int = 0) -> tuple[SequenceSet, SequenceSet]:
    """(train, validation) windows as ``train`` and ``baseline`` both use them: ``valid_path``
    when given, else a stratified, seeded split of the training data; both need both classes.

    ``train_path`` may be a list of files: they are pooled (ids prefixed ``n:`` by file
    number), each split in the same proportion so that every source is validated on.
    """
    paths = list(train_path) if isinstance(train_path, (list, tuple)) else [train_path]
    if negatives is not None and len(paths) > 1:
        raise MednaError("--negatives pairs with a single positives file; give labelled files to pool several")
    sets = [read_sequences(path, length=length, negatives=negatives) for path in paths]
    for data in sets[1:]:
        if data.length != sets[0].length:
            raise MednaError(f"{data.source}: windows are {data.length} bp, but {sets[0].source} has "
                             f"{sets[0].length}-bp windows; pooled files need one window length")
    for data in sets:
        _check_both_classes(data, "training")
    if valid_path is not None:
        train_data, valid_data = _pooled(sets), read_sequences(valid_path, length=sets[0].length)
    else:
        splits = [stratified_split(data, valid_fraction, seed) for data in sets]
        train_data, valid_data = _pooled([t for t, _ in splits]), _pooled([v for _, v in splits])
    _check_both_classes(valid_data, "validation")
    return train_data, valid_data


def _pooled(sets: list[SequenceSet]) -> SequenceSet:
    """One set of several files' windows; ids get their file's number when there are several."""
    if len(sets) == 1:
        return sets[0]
    return SequenceSet(ids=[f"{n}:{i}" for n, data in enumerate(sets, 1) for i in data.ids],
                       sequences=[s for data in sets for s in data.sequences],
                       labels=np.concatenate([data.require_labels() for data in sets]),
                       source="+".join(data.source for data in sets),
                       lines=[line for data in sets for line in data.lines])


def source_counts(paths: list, train_data: SequenceSet, valid_data: SequenceSet) -> list[dict]:
    """Windows per training file (pooled training): path, training and validation counts per class."""
    counts = []
    for number, path in enumerate(paths, 1):
        row = {"path": str(path)}
        for role, data in (("train", train_data), ("valid", valid_data)):
            mine = np.array([len(paths) == 1 or i.startswith(f"{number}:") for i in data.ids], dtype=bool)
            labels = data.require_labels()[mine]
            row.update({f"{role}_positives": int((labels == 1).sum()), f"{role}_negatives": int((labels == 0).sum())})
        counts.append(row)
    return counts
