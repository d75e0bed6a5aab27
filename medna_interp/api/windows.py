"""Loading a model and windows, predicting and selecting: the API's first steps."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..core.errors import MednaError
from ..core.settings import Common
from ..data.io import SequenceSet, read_sequences
from ..interpret.selection import Selection, select_confident
from ..models.loading import load_checkpoint
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba


def load(path: str | os.PathLike, device: str = "auto", seed: int = 0, precision: str = "fp32") -> MednaDFM:
    """A checkpoint directory as a model in eval mode.

    Parameters
    ----------
    path : a checkpoint directory (``config.json``, ``model.safetensors``, tokenizers)
    device : ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``
    seed : seeds Python, NumPy and torch
    precision : ``fp32``, ``bf16`` or ``auto`` (bf16 where the device has it natively); every
        function given the model runs at it, and ``model.precision`` may be changed later
    """
    return load_checkpoint(path, Common(device=device, seed=seed, precision=precision))


def read(path: str | os.PathLike, negatives: str | os.PathLike | None = None, length: int | None = 41) -> SequenceSet:
    """Windows from an iDNA-MS TSV, FASTA or plain file (optionally gzipped); see :func:`medna_interp.data.io.read_sequences`."""
    return read_sequences(path, negatives=negatives, length=length)


def synthetic(n: int = 1000, seed: int = 0, grammar=None) -> SequenceSet:
    """``n`` labelled synthetic 41-bp windows with the demo's planted grammar (half positive)."""
    from ..data.synth import Grammar, generate

    if n < 2:
        raise MednaError(f"need at least 2 windows, got {n}")
    rows, _ = generate(grammar or Grammar(), n, np.random.default_rng(seed), prefix="w")
    ids, labels, sequences = zip(*rows)
    return SequenceSet(list(ids), list(sequences), np.asarray(labels, dtype=np.int64), source="synthetic")


def windows(sequences: Sequence[str] | SequenceSet, labels: Sequence[int] | np.ndarray | None = None, *,
            need_both_classes: bool = False, least_per_class: int = 1, ids: Sequence[str] | None = None,
            model: MednaDFM | None = None) -> SequenceSet:
    """Check in-memory windows and wrap them as a :class:`SequenceSet`.

    Bases must be upper-case A/C/G/T (lower case, as in soft-masked genomes, and ``N``
    are refused rather than guessed at), all windows of one length (the model's, when
    ``model`` is given), labels 0/1 and as many as the windows.

    Raises
    ------
    MednaError : naming the first offending window, base and position
    """
    if isinstance(sequences, SequenceSet):
        data = sequences
        sequences, labels, ids = data.sequences, data.labels if labels is None else labels, data.ids
    sequences = list(sequences)
    if not sequences:
        raise MednaError("no sequences given")
    for index, sequence in enumerate(sequences):
        if not isinstance(sequence, str):
            raise MednaError(f"sequence {index} is a {type(sequence).__name__}, not a string")
        bad = next(((position, base) for position, base in enumerate(sequence) if base not in "ACGT"), None)
        if bad is not None:
            position, base = bad
            advice = " (lower case: upper-case soft-masked windows first)" if base in "acgt" else ""
            raise MednaError(f"sequence {index}: invalid base {base!r} at position {position + 1}; "
                             f"only A, C, G, T are allowed{advice}")
        if len(sequence) != len(sequences[0]):
            raise MednaError(f"sequence {index} has length {len(sequence)}, but sequence 0 has {len(sequences[0])}; "
                             "all windows must be equally long")
    if model is not None:
        model.require_length(len(sequences[0]), "sequences")
    array = None
    if labels is not None:
        array = np.asarray(labels)
        if array.shape != (len(sequences),):
            raise MednaError(f"labels have shape {array.shape}, expected ({len(sequences)},): one per sequence")
        if not np.isin(array, (0, 1)).all():
            raise MednaError(f"labels must be 0 or 1, got {sorted(set(array.tolist()) - {0, 1})[:3]}")
        array = array.astype(np.int64)
    if need_both_classes:
        if array is None:
            raise MednaError("labels are needed: 1 for modified windows, 0 for the others")
        for value, name in ((1, "positive (label 1)"), (0, "negative (label 0)")):
            count = int((array == value).sum())
            if count < least_per_class:
                raise MednaError(f"{count} {name} windows given; contrasting the classes needs at least "
                                 f"{least_per_class} of each")
    ids = [str(i) for i in (ids if ids is not None else range(len(sequences)))]
    if len(set(ids)) != len(ids):
        raise MednaError("window ids must be unique")
    return SequenceSet(ids, sequences, array, source="sequences")


def predict(model: MednaDFM, sequences: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """P(modified) of each window, shape (N,)."""
    data = windows(sequences, model=model)
    return predict_proba(model, data.sequences, batch_size)


def select(model: MednaDFM, sequences: Sequence[str], labels: Sequence[int], confidence: float = 0.9,
           max_per_class: int | None = None, batch_size: int = 64) -> Selection:
    """The correctly classified windows whose true-class probability exceeds ``confidence``.

    Returns
    -------
    Selection : ``data`` (the chosen windows, positives first), ``confidence`` and
        ``p_modified`` of shape (M,), ``source_index`` (M,) into the input, ``metrics``
    """
    data = windows(sequences, labels, need_both_classes=True, model=model)
    if not 0 <= confidence < 1:
        raise MednaError(f"confidence must be in [0, 1), got {confidence}")
    return select_confident(model, data, confidence, max_per_class, batch_size=batch_size)
