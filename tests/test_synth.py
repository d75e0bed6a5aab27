"""The synthetic grammar: what is planted where, and what the decoys carry."""

import numpy as np
import pytest

from medna_interp.core.errors import MednaError
from medna_interp.data.io import read_sequences
from medna_interp.data.synth import Grammar, PlantedMotif, generate, write_synthetic


def _sites_by_window(sites):
    by_window = {}
    for ident, _, name, start, _, _ in sites:
        by_window.setdefault(ident, {})[name] = start
    return by_window


def _has_pair(sequence):
    """The default rule read off the sequence: GAGG starting at 12-24 with AAAAA 9-12 bp before it."""
    return any(sequence[c : c + 4] == "GAGG" and sequence[c - d : c - d + 5] == "AAAAA"
               for c in range(12, 25) for d in range(9, 13))


def test_positives_are_exactly_the_windows_with_the_pair_at_its_spacing():
    rows, sites = generate(Grammar(), 600, np.random.default_rng(3), "s")
    assert all(sequence[20] == "A" for _, _, sequence in rows)
    assert [label for _, label, _ in rows] == [int(_has_pair(sequence)) for _, _, sequence in rows]
    placed = _sites_by_window(sites)
    positives = [ident for ident, label, _ in rows if label]
    cores = [placed[i]["GAGG_core"] for i in positives]
    # the core moves from window to window, and the tract moves with it
    assert len(set(cores)) >= 8 and min(cores) >= 12 and max(cores) <= 24
    assert {placed[i]["GAGG_core"] - placed[i]["A_tract"] for i in positives} == {9, 10, 11, 12}


def test_decoys_carry_one_element_or_both_at_a_wrong_spacing_in_the_same_span():
    grammar = Grammar(decoy_fraction=1.0, misplaced_fraction=1.0)
    rows, sites = generate(grammar, 400, np.random.default_rng(0), "s")
    placed = _sites_by_window(sites)
    negatives = [ident for ident, label, _ in rows if label == 0]
    assert set(placed) >= set(negatives)
    assert all(len(placed[i]) == 2 for i in negatives)
    core_in_place = [i for i in negatives if 12 <= placed[i]["GAGG_core"] <= 24]
    # either the core left its 12-24 range (the tract follows it), or the tract is at a wrong
    # spacing but where right-spaced tracts lie (0-15), so its position alone does not give it away
    assert 0.3 < len(core_in_place) / len(negatives) < 0.7
    assert not {placed[i]["GAGG_core"] - placed[i]["A_tract"] for i in core_in_place} & {9, 10, 11, 12}
    moved_tracts = [placed[i]["A_tract"] for i in core_in_place]
    assert 0 <= min(moved_tracts) and max(moved_tracts) <= 15
    single = Grammar(decoy_fraction=1.0, misplaced_fraction=0.0)
    rows, sites = generate(single, 200, np.random.default_rng(1), "s")
    carried = _sites_by_window(sites)
    assert all(len(carried[i]) == 1 for i, label, _ in rows if label == 0)


def test_a_position_specific_linear_model_cannot_represent_the_default_grammar():
    from medna_interp.data.io import SequenceSet
    from medna_interp.training.baseline import fit_linear

    def as_set(seed, n):
        rows, _ = generate(Grammar(), n, np.random.default_rng(seed), "w")
        ids, labels, sequences = zip(*rows)
        return SequenceSet(list(ids), list(sequences), np.array(labels))

    _, metrics = fit_linear(as_set(0, 2000), as_set(1, 800))
    assert 0.7 < metrics["auc"] < 0.93, metrics


def test_anchors_must_come_first_and_fit():
    with pytest.raises(MednaError, match="anchor 'core' must name a motif listed before it"):
        Grammar(motifs=[PlantedMotif("tract", "AAAAA", -8, -6, anchor="core"),
                        PlantedMotif("core", "GAGG", 15, 20)], decoy_weights=[1, 1]).validate()
    with pytest.raises(MednaError, match="from core does not fit in 41 bp"):
        Grammar(motifs=[PlantedMotif("core", "GAGG", 5, 20), PlantedMotif("tract", "AAAAA", -8, -6, anchor="core")]
                ).validate()


def test_an_anchored_grammar_from_yaml(tmp_path):
    path = tmp_path / "grammar.yaml"
    path.write_text("motifs:\n  - {name: core, sequence: GAGG, start_min: 14, start_max: 24}\n"
                    "  - {name: tract, sequence: TTTTT, start_min: 6, start_max: 7, anchor: core}\n")
    grammar = Grammar.from_file(path)
    out = write_synthetic(tmp_path / "data", grammar, n_train=80, n_test=0, seed=2)
    data = read_sequences(out / "train.tsv")
    for sequence, label in zip(data.sequences, data.labels):
        pair = any(sequence[c : c + 4] == "GAGG" and sequence[c + d : c + d + 5] == "TTTTT"
                   for c in range(14, 25) for d in (6, 7))
        assert pair == bool(label)


def test_an_unanchored_grammar_from_yaml(tmp_path):
    from medna_interp.data.io import read_sequences
    from medna_interp.data.synth import Grammar

    path = tmp_path / "grammar.yaml"
    path.write_text("length: 30\ncentre_base: C\nlogic: or\nmotifs:\n"
                    "  - {name: CG_box, sequence: CGCG, start_min: 4, start_max: 8}\n"
                    "  - {name: T_run, sequence: TTTTT, start_min: 20, start_max: 24}\n")
    grammar = Grammar.from_file(path)
    out = write_synthetic(tmp_path / "data", grammar, n_train=60, n_test=0, seed=2)
    data = read_sequences(out / "train.tsv", length=30)
    for sequence, label in zip(data.sequences, data.labels):
        carries = "CGCG" in sequence[4:12] or "TTTTT" in sequence[20:29]
        assert sequence[15] == "C" and carries == bool(label)


