"""High-confidence contrastive sets: correctly classified windows the model is sure of.

CAD and CWGA both contrast these positives against these negatives.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import MednaError
from ..core.metrics import binary_metrics
from ..core.outputs import atomic_file
from ..data.io import SequenceSet
from ..models.medna_dfm import MednaDFM
from ..models.predict import predict_proba


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
    relaxed : per class name (``positives``, ``negatives``) whose windows above the
        confidence threshold were too few: ``passed`` (how many were), ``taken``,
        ``lowest_confidence`` of those taken and ``misclassified`` among them
    """

    data: SequenceSet
    confidence: np.ndarray
    p_modified: np.ndarray
    source_index: np.ndarray
    n_input: int
    n_correct: int
    metrics: dict
    relaxed: dict = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels

    @property
    def counts(self) -> dict[str, int]:
        counts = {"input": self.n_input, "correct": self.n_correct,
                  "positives": int((self.labels == 1).sum()), "negatives": int((self.labels == 0).sum())}
        return {**counts, "relaxed": self.relaxed} if self.relaxed else counts

    def write(self, path: str | os.PathLike) -> None:
        with atomic_file(path) as handle:
            handle.write("id\tlabel\tp_modified\tconfidence\tsource_row\tsequence\n")
            for i, ident in enumerate(self.data.ids):
                handle.write(f"{ident}\t{self.labels[i]}\t{self.p_modified[i]:.6f}\t{self.confidence[i]:.6f}\t"
                             f"{self.source_index[i]}\t{self.data.sequences[i]}\n")


def relaxed_message(relaxed: dict, confidence: float) -> str:
    """One line saying how a selection was relaxed (``Selection.relaxed`` as recorded)."""
    parts = [f"{kind}: {r['passed']} passed, {r['taken']} taken down to confidence {r['lowest_confidence']:.2f}"
             + (f", {r['misclassified']} of them misclassified" if r["misclassified"] else "")
             for kind, r in relaxed.items()]
    return (f"too few windows passed confidence > {confidence}, so the most confident were taken instead: "
            + "; ".join(parts))


def select_confident(model: MednaDFM, data: SequenceSet, confidence: float = 0.9,
                     max_per_class: int | None = None, min_per_class: int = 1,
                     batch_size: int = 64, probabilities: np.ndarray | None = None,
                     min_selected: int = 0) -> Selection:
    """Correctly classified windows with true-class probability above ``confidence``.

    A class with fewer than ``min_selected`` such windows (a weak model) takes its most
    confident correctly classified windows up to that number instead, then, if those are
    too few, its least wrongly scored others; :attr:`Selection.relaxed` says so. Without
    relaxation, :class:`MednaError` is raised when a class keeps fewer than ``min_per_class``.
    """
    labels = data.require_labels()
    present = set(labels.tolist())
    if present != {0, 1}:
        only = "positives (label 1)" if present == {1} else "negatives (label 0)"
        raise MednaError(f"{data.source}: the data holds only {only}; contrasting the classes needs both")
    p = predict_proba(model, data.sequences, batch_size) if probabilities is None else probabilities
    true_class_p = np.where(labels == 1, p, 1.0 - p)
    correct = (p > 0.5) == (labels == 1)
    wanted = min(max(min_selected, min_per_class), max_per_class or np.inf) if min_selected else 0
    chosen, relaxed = [], {}
    for value, name in ((1, "positive"), (0, "negative")):
        members = np.flatnonzero(correct & (labels == value) & (true_class_p > confidence))
        members = members[np.argsort(-true_class_p[members], kind="stable")][:max_per_class]
        if len(members) < wanted:
            # the class's windows ranked correct first, then by how sure the model is of the true class
            pool = np.flatnonzero(labels == value)
            ranked = pool[np.lexsort((-true_class_p[pool], ~correct[pool]))][: int(wanted)]
            relaxed[f"{name}s"] = {"passed": int(len(members)), "taken": int(len(ranked)),
                                   "lowest_confidence": round(float(true_class_p[ranked].min()), 4),
                                   "misclassified": int((~correct[ranked]).sum())}
            members = ranked
        if len(members) < min_per_class:
            raise MednaError(f"{data.source}: only {len(members)} {name} windows are correctly classified with "
                             f"confidence > {confidence} (need {min_per_class})",
                             hint="lower --confidence, set --min-selected, or use more data")
        chosen.append(members)
    if relaxed:
        print(f"warning: {data.source}: {relaxed_message(relaxed, confidence)}", file=sys.stderr, flush=True)
    index = np.concatenate(chosen)
    metrics = binary_metrics(labels, p).to_dict()
    return Selection(data.subset(index), true_class_p[index], p[index], index, len(data), int(correct.sum()),
                     metrics, relaxed)
