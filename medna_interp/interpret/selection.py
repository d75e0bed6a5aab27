"""High-confidence contrastive sets: correctly classified windows the model is sure of.

CAD and CWGA both contrast these positives against these negatives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import MednaError
from ..io import SequenceSet
from ..metrics import binary_metrics
from ..models.medna_dfm import MednaDFM
from ..outputs import atomic_file
from ..predict import predict_proba


@dataclass
class Selection:
    """Selected windows, positives first, each class by decreasing confidence.

    Attributes
    ----------
    data : SequenceSet of the selected windows (labels = true labels)
    confidence : np.ndarray, shape (M,), softmax probability of the true class
    p_modified : np.ndarray, shape (M,)
    source_index : np.ndarray, shape (M,), row of each window in the input data
    n_input : int, windows scored
    n_correct : int, of which correctly classified
    metrics : dict, the model's metrics on all input windows (threshold 0.5)
    """

    data: SequenceSet
    confidence: np.ndarray
    p_modified: np.ndarray
    source_index: np.ndarray
    n_input: int
    n_correct: int
    metrics: dict

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels

    @property
    def counts(self) -> dict[str, int]:
        return {"input": self.n_input, "correct": self.n_correct,
                "positives": int((self.labels == 1).sum()), "negatives": int((self.labels == 0).sum())}

    def write(self, path: str | os.PathLike) -> None:
        with atomic_file(path) as handle:
            handle.write("id\tlabel\tp_modified\tconfidence\tsource_row\tsequence\n")
            for i, ident in enumerate(self.data.ids):
                handle.write(f"{ident}\t{self.labels[i]}\t{self.p_modified[i]:.6f}\t{self.confidence[i]:.6f}\t"
                             f"{self.source_index[i]}\t{self.data.sequences[i]}\n")


def select_confident(model: MednaDFM, data: SequenceSet, confidence: float = 0.9,
                     max_per_class: int | None = None, min_per_class: int = 1,
                     batch_size: int = 64, probabilities: np.ndarray | None = None) -> Selection:
    """Correctly classified windows with true-class probability above ``confidence``.

    Raises :class:`MednaError` when a class keeps fewer than ``min_per_class`` windows.
    """
    labels = data.require_labels()
    present = set(labels.tolist())
    if present != {0, 1}:
        only = "positives (label 1)" if present == {1} else "negatives (label 0)"
        raise MednaError(f"{data.source}: the data holds only {only}; contrasting the classes needs both")
    p = predict_proba(model, data.sequences, batch_size) if probabilities is None else probabilities
    true_class_p = np.where(labels == 1, p, 1.0 - p)
    correct = (p > 0.5) == (labels == 1)
    chosen = []
    for value, name in ((1, "positive"), (0, "negative")):
        members = np.flatnonzero(correct & (labels == value) & (true_class_p > confidence))
        members = members[np.argsort(-true_class_p[members], kind="stable")][:max_per_class]
        if len(members) < min_per_class:
            raise MednaError(f"{data.source}: only {len(members)} {name} windows are correctly classified with "
                             f"confidence > {confidence} (need {min_per_class})",
                             hint="lower --confidence or use more data")
        chosen.append(members)
    index = np.concatenate(chosen)
    metrics = binary_metrics(labels, p).to_dict()
    return Selection(data.subset(index), true_class_p[index], p[index], index, len(data), int(correct.sum()),
                     metrics)
