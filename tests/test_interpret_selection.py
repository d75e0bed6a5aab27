"""Selection of high-confidence windows, with numbers worked out by hand."""

import numpy as np
import pytest

from medna_interp.core.errors import MednaError
from medna_interp.interpret.selection import select_confident
from medna_interp.data.io import SequenceSet

SEQUENCES = ["A" * 41, "C" * 41, "G" * 41, "T" * 41, "AC" * 20 + "A", "GT" * 20 + "G"]
LABELS = np.array([1, 1, 0, 0, 1, 0])
P = np.array([0.95, 0.60, 0.05, 0.30, 0.99, 0.92])  # window 5 is a confident mistake


def data() -> SequenceSet:
    return SequenceSet([f"w{i}" for i in range(6)], SEQUENCES, LABELS, source="toy")


def test_keeps_correct_windows_above_the_confidence_positives_first_by_confidence(tmp_path):
    selection = select_confident(None, data(), confidence=0.9, probabilities=P)
    assert selection.source_index.tolist() == [4, 0, 2]
    assert selection.data.ids == ["w4", "w0", "w2"] and selection.labels.tolist() == [1, 1, 0]
    assert np.allclose(selection.confidence, [0.99, 0.95, 0.95])
    assert selection.counts == {"input": 6, "correct": 5, "positives": 2, "negatives": 1}
    assert selection.metrics["acc"] == pytest.approx(5 / 6)
    selection.write(tmp_path / "selection.tsv")
    lines = (tmp_path / "selection.tsv").read_text().splitlines()
    assert lines[0] == "id\tlabel\tp_modified\tconfidence\tsource_row\tsequence"
    assert lines[1] == f"w4\t1\t0.990000\t0.990000\t4\t{SEQUENCES[4]}"


def test_max_per_class_and_lower_confidence():
    selection = select_confident(None, data(), confidence=0.5, max_per_class=1, probabilities=P)
    assert selection.source_index.tolist() == [4, 2]
    everything = select_confident(None, data(), confidence=0.0, probabilities=P)
    assert sorted(everything.source_index.tolist()) == [0, 1, 2, 3, 4]  # every correct window


def test_too_few_windows_and_one_class_are_user_errors():
    with pytest.raises(MednaError, match="only 0 negative windows are correctly classified with confidence > 0.96"):
        select_confident(None, data(), confidence=0.96, probabilities=P)
    one_class = SequenceSet(["a", "b"], SEQUENCES[:2], np.array([1, 1]), source="pos.tsv")
    with pytest.raises(MednaError, match="pos.tsv: the data holds only positives"):
        select_confident(None, one_class, probabilities=np.array([0.9, 0.8]))


def test_too_few_confident_windows_relax_to_the_most_confident_and_say_so(capsys):
    # at confidence 0.96 only w4 (positive) passes and no negative does
    selection = select_confident(None, data(), confidence=0.96, probabilities=P, min_selected=2)
    assert capsys.readouterr().err.strip() == (
        "warning: toy: too few windows passed confidence > 0.96, so the most confident were taken instead: "
        "positives: 1 passed, 2 taken down to confidence 0.95; negatives: 0 passed, 2 taken down to confidence 0.70")
    assert selection.source_index.tolist() == [4, 0, 2, 3]  # positives w4 w0; negatives w2 (0.95) then w3 (0.70)
    assert selection.relaxed == {
        "positives": {"passed": 1, "taken": 2, "lowest_confidence": 0.95, "misclassified": 0},
        "negatives": {"passed": 0, "taken": 2, "lowest_confidence": 0.7, "misclassified": 0}}
    assert selection.counts["relaxed"] == selection.relaxed
    # three negatives wanted: the confident mistake w5 (true-class p 0.08) comes after every correct one
    more = select_confident(None, data(), confidence=0.96, probabilities=P, min_selected=3)
    assert more.source_index.tolist() == [4, 0, 1, 2, 3, 5]
    assert more.relaxed["negatives"]["misclassified"] == 1 and more.relaxed["positives"]["misclassified"] == 0


def test_enough_confident_windows_are_not_relaxed():
    selection = select_confident(None, data(), confidence=0.9, probabilities=P, min_selected=1)
    assert selection.source_index.tolist() == [4, 0, 2] and selection.relaxed == {}
    assert "relaxed" not in selection.counts
